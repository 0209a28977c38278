using Pilotage.Server.Gateway;

namespace Pilotage.Server.Tests.Gateway;

public sealed class AnswerTextTests
{
    [Fact]
    public void Text_longer_than_the_first_array_is_kept_whole_and_in_order()
    {
        using var text = new AnswerText();
        var expected = new System.Text.StringBuilder();
        for (var i = 0; i < 2000; i++)
        {
            var piece = $"word {i}, ";
            text.Append(piece);
            expected.Append(piece);
        }
        Assert.Equal(expected.ToString(), text.ToString());
        Assert.Equal(expected.Length, text.Length);
    }

    [Fact]
    public void Setting_a_shorter_length_takes_back_what_was_appended_after_it()
    {
        using var text = new AnswerText();
        text.Append("kept");
        var before = text.Length;
        text.Append(" declined");
        text.Length = before;
        text.Append(", then more");
        Assert.Equal("kept, then more", text.ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => text.Length = 100);
        Assert.Throws<ArgumentOutOfRangeException>(() => text.Length = -1);
    }

    [Fact]
    public void Its_utf8_is_the_encoding_of_its_text_and_null_for_half_a_surrogate_pair()
    {
        var random = new Random(27);
        string[] pieces = ["a", " ", "é", "東京", "🚀", "\n", "\ufffd", "\u00a0", "word, "];
        for (var n = 0; n < 500; n++)
        {
            using var text = new AnswerText();
            for (var i = random.Next(0, 300); i > 0; i--) text.Append(pieces[random.Next(pieces.Length)]);
            Assert.Equal(System.Text.Encoding.UTF8.GetBytes(text.ToString()), text.ToUtf8());
        }
        using var empty = new AnswerText();
        Assert.Equal([], empty.ToUtf8()!);
        foreach (var broken in new[] { "lone \ud800 high", "lone \udc00 low", "\ud83d", "ends with \ud83d" })
        {
            using var text = new AnswerText();
            text.Append(broken);
            Assert.Null(text.ToUtf8());
        }
    }

    [Fact]
    public void Once_disposed_it_reads_as_empty_and_can_be_disposed_again()
    {
        var text = new AnswerText();
        Assert.Equal("", text.ToString());
        text.Append("given back");
        text.Dispose();
        Assert.Equal("", text.ToString());
        Assert.Equal(0, text.Length);
        text.Dispose();
    }
}
