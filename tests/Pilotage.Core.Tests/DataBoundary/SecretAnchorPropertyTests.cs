using CsCheck;
using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The secret detector looks for its formats' literals only around the characters each of them holds
/// (<see cref="SecretDetector.HoldsLiteral"/>): it must say a literal is in a text exactly when a plain search for each
/// finds it. Generated texts put literals whole, cut at either end and overlapping each other, next to their anchor
/// characters and at the text's ends.
/// </summary>
public class SecretAnchorPropertyTests
{
    private static readonly string[] Pieces =
    [
        .. SecretDetector.Literals,
        .. SecretDetector.Literals.Where(l => l.Length > 2).Select(l => l[1..]),
        .. SecretDetector.Literals.Where(l => l.Length > 2).Select(l => l[..^1]),
        "A", "J", "_", "-", "--", "-----", "~", "Q", "=", "e", "y", "g", "h", "l", "P", "K", " ", "a", "VAT", "e-mail", "2026-11-18", "ASI", "AccountKey", "PRIVATE", " KEY",
    ];

    private static readonly Gen<string> Text =
        Gen.Int[0, Pieces.Length - 1].Array[1, 8].Select(picks => string.Concat(picks.Select(p => Pieces[p])));

    [Fact]
    public void Looking_around_the_anchors_finds_a_literal_exactly_when_one_is_there() =>
        Text.Sample(text => SecretDetector.HoldsLiteral(text) == HoldsLiteralPlainly(text), iter: 30000);

    [Fact]
    public void The_generated_texts_hold_literals_and_near_misses()
    {
        var holding = GeneratedTexts.CountHolding(Text, HoldsLiteralPlainly);
        Assert.True(holding is > 200 and < 800, $"{holding} of 1000 generated texts hold a literal");
    }

    [Theory]
    [InlineData("AKIA", true)]
    [InlineData("xAKIA", true)]
    [InlineData("AAKIA", true)]
    [InlineData("PRIVATE KEY", true)]
    [InlineData("github_pat_", true)]
    [InlineData("xgithub_pat", false)]
    [InlineData("eyJ", true)]
    [InlineData("ey J", false)]
    [InlineData("Q~", true)]
    [InlineData("~Q", false)]
    [InlineData("glcbt-", true)]
    [InlineData("glcbt", false)]
    [InlineData("-----glrt-", true)]
    [InlineData("glrt-----", true)]
    [InlineData("-----END X-----END X", false)]
    [InlineData("the VAT on an e-mail, 2026-11-18", false)]
    public void Known_texts(string text, bool holds)
    {
        Assert.Equal(holds, SecretDetector.HoldsLiteral(text));
        Assert.Equal(holds, HoldsLiteralPlainly(text));
    }

    private static bool HoldsLiteralPlainly(string text) => SecretDetector.Literals.Any(l => text.Contains(l, StringComparison.Ordinal));
}
