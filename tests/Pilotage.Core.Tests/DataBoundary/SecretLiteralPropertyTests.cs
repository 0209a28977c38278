using CsCheck;
using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The secret detector rules a text out before any pattern runs when none of the formats' literals is in it, and runs
/// each pattern only where its own literal is (<see cref="SecretDetector.Find"/>); with every pattern run over every text
/// (<see cref="SecretDetector.FindWithoutShortcuts"/>) it must find exactly the same. Generated texts put tokens of
/// every format, cut short or whole, next to spaces, punctuation and words of 18 to 22 characters.
/// </summary>
public class SecretLiteralPropertyTests
{
    private static readonly SecretDetector Detector = new();

    private const string Jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

    private static readonly string[] Pieces =
    [
        " ", "  ", "\n", ",", ".", "-", "_", "=", "==", "/", "+", "~", "@", ":", "\"", "(", ")", "a", "Z", "7",
        "AKIA", "AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE", "A3TXIOSFODNN7EXAMPLE",
        "AIzaSyA1234567890abcdefghijklmnopqrstu", "ghp_", "ghp_0123456789abcdefghijklmnopqrstuvwxyz", "github_pat_",
        "glpat-", "glpat-0123456789abcdefghij", "glpat-0123456789abcdefghi", "Q~", "abc1Q~0123456789abcdefghijklmnopqrstu",
        "AccountKey=", new string('A', 86) + "==", "PRIVATE KEY", "-----BEGIN RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA", "-----END RSA PRIVATE KEY-----",
        "eyJ", Jwt, Jwt[..40], "abcdefghijklmnopqr", "abcdefghijklmnopqrs", "abcdefghijklmnopqrst", "abcdefghijklmnopqrstuv",
        "the parcel", "internationalisation", "https://example.org/a/b", "dana.lee@example.org",
        // Whole tokens whose first anchor character (see SecretDetector.Find) comes late in their literal.
        "github_pat_" + new string('b', 82), "ghs_" + new string('c', 36), "gloas-" + new string('d', 24),
    ];

    private static readonly Gen<string> Text =
        Gen.Int[0, Pieces.Length - 1].Array[1, 16].Select(picks => string.Concat(picks.Select(p => Pieces[p])));

    [Fact]
    public void Ruling_texts_out_by_their_literals_loses_no_secret() =>
        Text.Sample(text => Hits(text, whole: true).SequenceEqual(Hits(text, whole: false)), iter: 20000);

    [Fact]
    public void The_generated_texts_hold_secrets_for_the_comparison_to_mean_something()
    {
        var withSecret = GeneratedTexts.CountHolding(Text, text => Hits(text, whole: true).Count > 0);
        Assert.True(withSecret > 300, $"{withSecret} of 1000 generated texts hold a secret");
    }

    [Theory]
    [InlineData("key AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE")]
    [InlineData("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE")]
    [InlineData("a very short text, then AKIAIOSFODNN7EXAMPLE.", "AKIAIOSFODNN7EXAMPLE")]
    [InlineData("x abc1Q~0123456789abcdefghijklmnopqrstu y", "abc1Q~0123456789abcdefghijklmnopqrstu")]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----")]
    // Anchor-free prose before a token whose literal's first anchor character is its last: the search must start early enough.
    [InlineData("see the token github_pat_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb ok", "github_pat_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")]
    [InlineData("the parcel glcbt-0123456789abcdefghij", "glcbt-0123456789abcdefghij")]
    [InlineData("the parcel ghr_0123456789abcdefghijklmnopqrstuvwxyz", "ghr_0123456789abcdefghijklmnopqrstuvwxyz")]
    [InlineData("the parcel eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")]
    [InlineData("the parcel abc1Q~0123456789abcdefghijklmnopqrstu", "abc1Q~0123456789abcdefghijklmnopqrstu")]
    public void A_secret_at_the_edges_of_a_text_is_found(string text, string secret) =>
        Assert.Contains(Hits(text, whole: false), f => text.Substring(f.Start, f.Length) == secret);

    private static List<Finding> Hits(string text, bool whole) => DetectorChecks.Hits(Detector, text, whole);
}
