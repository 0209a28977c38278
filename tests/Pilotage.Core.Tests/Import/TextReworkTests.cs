using Pilotage.Core.Import;

namespace Pilotage.Core.Tests.Import;

public sealed class TextReworkTests
{
    [Fact]
    public void Untouched_is_zero_and_rewritten_is_one()
    {
        Assert.Equal(0, TextRework.Between("same text", "same text"));
        Assert.Equal(1, TextRework.Between("abc", "xyz"));
        Assert.Equal(1, TextRework.Between("", "new"));
    }

    [Fact]
    public void It_is_edits_over_the_longer_text()
    {
        Assert.Equal(3 / 7.0, TextRework.Between("kitten!", "sitting"), 10);
        Assert.Equal(1 / 12.0, TextRework.Between("Hello, world", "Hello, World"), 10);
        Assert.Equal(6 / 11.0, TextRework.Between("Hello", "Hello world"), 10);
    }

    [Fact]
    public void Long_texts_are_compared_by_words_and_stay_between_zero_and_one()
    {
        var words = Enumerable.Range(0, 800).Select(i => $"word{i}").ToArray();
        var answer = string.Join(' ', words);
        words[10] = "changed";
        words[500] = "also-changed";
        var final = "Intro. " + string.Join(' ', words);
        Assert.True(answer.Length > 1000);
        var rework = TextRework.Between(answer, final);
        Assert.Equal(3 / 801.0, rework, 10);
    }
}
