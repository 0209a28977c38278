using Pilotage.Core.Evidence;

namespace Pilotage.Core.Tests.Evidence;

public sealed class ReworkTests
{
    [Theory]
    [InlineData("same text", "same text", 0.0)]
    [InlineData("", "", 0.0)]
    [InlineData("", "abc", 1.0)]
    [InlineData("abc", "", 1.0)]
    // kitten → sitting: k→s, e→i, +g = 3 edits over 7 characters.
    [InlineData("kitten", "sitting", 3.0 / 7)]
    // One character added to 9: 1 / 10.
    [InlineData("Thank you", "Thank you!", 1.0 / 10)]
    // Entirely different, same length: every character substituted.
    [InlineData("abcd", "wxyz", 1.0)]
    // "refund" → "refunds" and "5" → "3": 2 edits over the longer (43 characters).
    [InlineData("We will refund the order within 5 days now.", "We will refunds the order within 3 days now.", 2.0 / 44)]
    public void Short_texts_are_compared_by_characters(string answer, string final, double expected)
    {
        Assert.Equal(expected, Rework.Between(answer, final), 12);
    }

    [Theory]
    [InlineData("the cat sat on the mat", "the dog sat on the mat", 1.0 / 6)]
    [InlineData("a b c", "a c", 1.0 / 3)]
    [InlineData("a b", "b a", 1.0)]
    [InlineData("one two three", "one  two\nthree", 0.0)]
    [InlineData("", "one two", 1.0)]
    public void Word_level_distance_counts_words(string answer, string final, double expected)
    {
        Assert.Equal(expected, Rework.Words(answer, final), 12);
    }

    [Fact]
    public void Long_texts_are_compared_by_words()
    {
        var words = Enumerable.Range(0, 1000).Select(i => $"word{i}").ToArray();
        var answer = string.Join(' ', words);
        Assert.True(answer.Length > Rework.CharacterLimit);

        // Ten words replaced out of 1000.
        var edited = (string[])words.Clone();
        for (var i = 0; i < 10; i++) edited[i * 97] = "changed";
        Assert.Equal(10.0 / 1000, Rework.Between(answer, string.Join(' ', edited)), 12);

        // Five words inserted: 5 edits over the longer, 1005 words.
        var inserted = words.Take(500).Concat(["a", "b", "c", "d", "e"]).Concat(words.Skip(500));
        Assert.Equal(5.0 / 1005, Rework.Between(answer, string.Join(' ', inserted)), 12);
    }

    [Fact]
    public void Very_long_texts_beyond_the_table_limit_use_the_lower_bound_which_is_exact_for_substitutions()
    {
        var words = Enumerable.Range(0, 2500).Select(i => $"w{i}").ToArray();
        // First ten and last ten replaced, so no common prefix or suffix shrinks the table below the limit.
        var final = Enumerable.Range(0, 10).Select(i => $"new{i}").Concat(words[10..2490]).Concat(Enumerable.Range(0, 10).Select(i => $"end{i}"));
        Assert.True(2500L * 2500 > Rework.WordCellLimit);
        Assert.Equal(20.0 / 2500, Rework.Between(string.Join(' ', words), string.Join(' ', final)), 12);
    }

    [Fact]
    public void The_value_stays_within_zero_and_one()
    {
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var a = new string(Enumerable.Range(0, random.Next(0, 60)).Select(_ => (char)('a' + random.Next(4))).ToArray());
            var b = new string(Enumerable.Range(0, random.Next(0, 60)).Select(_ => (char)('a' + random.Next(4))).ToArray());
            var value = Rework.Between(a, b);
            Assert.InRange(value, 0, 1);
            Assert.Equal(value, Rework.Between(b, a), 12);
        }
    }
}
