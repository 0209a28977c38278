using System.Text;
using Pilotage.Core.Metrics;

namespace Pilotage.Core.Tests.Evidence;

/// <summary>
/// The bit-parallel edit distance must give exactly the figures of the plain table (the definition), on every
/// length around the 64-row blocks and for every kind of character, or rework would change with the algorithm.
/// </summary>
public sealed class EditDistanceTests
{
    [Theory]
    [InlineData("", "", 0)]
    [InlineData("", "abc", 3)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("flaw", "lawn", 2)]
    [InlineData("abcd", "wxyz", 4)]
    [InlineData("Hello, thank you", "Hello, thanks", 4)]
    public void Known_distances(string a, string b, int expected)
    {
        Assert.Equal(expected, EditDistance.Between(a, b));
        Assert.Equal(expected, EditDistance.Between(b, a));
    }

    [Theory]
    // A small alphabet (many matches), ASCII text, and characters outside ASCII with surrogate pairs (counted as two UTF-16 units).
    [InlineData("ab", 1)]
    [InlineData("abcd", 2)]
    [InlineData("The quick brown fox, 12345!", 3)]
    [InlineData("aé😀中\u0301ß", 4)]
    public void Equals_the_plain_table_on_random_texts(string alphabet, int seed)
    {
        var random = new Random(seed);
        // Lengths on both sides of the 64-row blocks: 0, 1, 63, 64, 65, 127, 128, 129, and a few hundred (several blocks).
        int[] lengths = [0, 1, 2, 5, 31, 63, 64, 65, 100, 127, 128, 129, 200, 300];
        foreach (var n in lengths)
        {
            foreach (var m in lengths)
            {
                for (var k = 0; k < 3; k++)
                {
                    var a = Text(random, alphabet, n);
                    var b = k == 2 ? Mutate(random, a, alphabet) : Text(random, alphabet, m);
                    var expected = EditDistance.Table(a.AsSpan(), b.AsSpan());
                    Assert.True(expected == EditDistance.Between(a, b), $"'{a}' → '{b}': expected {expected}, got {EditDistance.Between(a, b)}");
                    Assert.Equal(expected, EditDistance.Between(b, a));
                }
            }
        }
    }

    [Fact]
    public void Equals_the_plain_table_on_random_word_ids()
    {
        var random = new Random(11);
        for (var i = 0; i < 300; i++)
        {
            var alphabet = random.Next(1, 40);
            var a = Enumerable.Range(0, random.Next(0, 260)).Select(_ => random.Next(alphabet)).ToArray();
            var b = random.Next(2) == 0
                ? Enumerable.Range(0, random.Next(0, 260)).Select(_ => random.Next(alphabet)).ToArray()
                : a.Where(_ => random.Next(10) != 0).Select(x => random.Next(10) == 0 ? random.Next(alphabet) : x).ToArray();
            Assert.Equal(EditDistance.Table<int>(a, b), EditDistance.BetweenIds(a, b, alphabet));
        }
    }

    [Fact]
    public void Long_texts_of_many_blocks_equal_the_plain_table()
    {
        var random = new Random(5);
        var a = Text(random, "abcdefgh ", 2000);
        var b = Mutate(random, a, "abcdefgh ");
        Assert.Equal(EditDistance.Table(a.AsSpan(), b.AsSpan()), EditDistance.Between(a, b));
        var c = Text(random, "abcdefgh ", 1500);
        Assert.Equal(EditDistance.Table(a.AsSpan(), c.AsSpan()), EditDistance.Between(a, c));
    }

    private static string Text(Random random, string alphabet, int length)
    {
        var units = Units(alphabet);
        var text = new StringBuilder(length * 2);
        for (var i = 0; i < length; i++) text.Append(units[random.Next(units.Count)]);
        return text.ToString();
    }

    /// <summary>The text with about one edit in eight: insertions, deletions and substitutions.</summary>
    private static string Mutate(Random random, string text, string alphabet)
    {
        var units = Units(alphabet);
        var result = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            switch (random.Next(24))
            {
                case 0: break;
                case 1: result.Append(units[random.Next(units.Count)]); break;
                case 2: result.Append(c).Append(units[random.Next(units.Count)]); break;
                default: result.Append(c); break;
            }
        }
        return result.ToString();
    }

    // Whole characters, so a surrogate pair is kept together as text (and may still be cut apart by an edit, as in real text).
    private static List<string> Units(string alphabet)
    {
        var units = new List<string>();
        var e = System.Globalization.StringInfo.GetTextElementEnumerator(alphabet);
        while (e.MoveNext()) units.Add((string)e.Current);
        foreach (var c in alphabet) units.Add(c.ToString());
        return units;
    }
}
