using System.Text;

namespace Pilotage.Server.Tests.Evidence;

/// <summary>A record's contents given as UTF-8 read as the text they decode to, exactly as when given as that text.</summary>
public sealed class InteractionRowContentTests
{
    [Fact]
    public void Contents_given_as_utf8_read_as_their_decoded_text_on_random_inputs()
    {
        var random = new Random(27);
        for (var n = 0; n < 500; n++)
        {
            var bytes = RandomUtf8(random);
            var row = EvidenceRows.Make(n);
            row.SetRequestContent(bytes);
            row.SetResponseContent(bytes);
            var valid = System.Text.Unicode.Utf8.IsValid(bytes);
            // Held as bytes only when valid: then the text read back is the one they spell, and encodes back to them.
            Assert.Equal(valid, row.RequestContentUtf8 is not null);
            Assert.Equal(valid, row.ResponseContentUtf8 is not null);
            Assert.Equal(Encoding.UTF8.GetString(bytes), row.RequestContent);
            Assert.Equal(Encoding.UTF8.GetString(bytes), row.ResponseContent);
            if (valid) Assert.Equal(bytes, Encoding.UTF8.GetBytes(row.RequestContent!));
            // Once read as text, the text is what the row holds.
            Assert.Null(row.RequestContentUtf8);
        }
    }

    [Fact]
    public void Text_set_after_bytes_replaces_them_and_null_clears_both()
    {
        var row = EvidenceRows.Make(1);
        row.SetRequestContent("{\"a\":1}"u8.ToArray());
        row.RequestContent = "replaced";
        Assert.Null(row.RequestContentUtf8);
        Assert.Equal("replaced", row.RequestContent);
        row.SetResponseContent("answer"u8.ToArray());
        row.ResponseContent = null;
        Assert.Null(row.ResponseContentUtf8);
        Assert.Null(row.ResponseContent);
    }

    [Fact]
    public void Empty_utf8_is_an_empty_text_not_null()
    {
        var row = EvidenceRows.Make(1);
        row.SetRequestContent([]);
        Assert.Equal("", row.RequestContent);
    }

    /// <summary>Text of every kind (ASCII, accents, CJK, emoji) as UTF-8, and now and then a byte that breaks it.</summary>
    internal static byte[] RandomUtf8(Random random)
    {
        string[] pieces = ["a", "Z", " ", "\n", "\"", "\\", "é", "ß", "東京", "🚀", "\u00a0", "{\"k\":[1,2]}", "\ufffd"];
        var text = new StringBuilder();
        for (var i = random.Next(0, 40); i > 0; i--) text.Append(pieces[random.Next(pieces.Length)]);
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        if (bytes.Length > 0 && random.Next(4) == 0)
        {
            bytes[random.Next(bytes.Length)] = (byte)random.Next(0x80, 0x100);
        }
        return bytes;
    }
}
