using System.Buffers.Text;
using System.Text.RegularExpressions;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// Credentials, in the formats gitleaks' rule set describes: AWS access key ids, Google API keys, Azure AD
/// client secrets and storage account keys, GitHub and GitLab tokens, PEM private key blocks and JSON Web
/// Tokens. Each format has a distinctive prefix, so the scan only starts where one occurs. A JWT counts
/// only when its first part decodes to a JSON header; a private key block is found from its BEGIN line,
/// to its END line or, when cut off, to the end of its body (a truncated key is still a key).
/// </summary>
internal sealed partial class SecretDetector() : Detector(Secret)
{
    [GeneratedRegex(
        @"(?<![A-Za-z0-9])(?:(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}|AIza[0-9A-Za-z_-]{33,35}|(?:ghp|gho|ghu|ghs|ghr)_[0-9A-Za-z]{36}|github_pat_[0-9A-Za-z_]{82}|(?:glpat|gldt|glrt|glcbt|glptt|gloas)-[0-9A-Za-z_-]{20,300}(?:\.[0-9a-z]{2}[0-9a-z]{7})?)(?![A-Za-z0-9_-])",
        RegexOptions.CultureInvariant)]
    private static partial Regex Token();

    // Azure AD client secrets carry "Q~" after three characters and a digit; storage keys follow "AccountKey=".
    [GeneratedRegex(
        @"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])|(?<=AccountKey=)[A-Za-z0-9+/]{86}==",
        RegexOptions.CultureInvariant)]
    private static partial Regex Azure();

    [GeneratedRegex(
        @"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s:,.-]*?(?:-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|(?=[^A-Za-z0-9+/=\s:,.-]|$))",
        RegexOptions.CultureInvariant)]
    private static partial Regex PrivateKey();

    [GeneratedRegex(
        @"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{14,}\.ey[A-Za-z0-9_-]{14,}\.(?:[A-Za-z0-9_-]{10,}={0,2})?",
        RegexOptions.CultureInvariant)]
    private static partial Regex Jwt();

    /// <summary>The shortest token any of the formats has (a GitLab token: 6 + 20).</summary>
    internal const int MinLength = 20;

    /// <summary>a private key's BEGIN line (its body is held while it runs on); tokens hold no whitespace.</summary>
    public override int LongestMatch => 160;

    public override bool MayMatch(in TextProfile profile) => profile.Length >= MinLength;

    /// <summary>
    /// Every format's distinctive literal and the Azure secret's "Q~": a text with none of them holds no secret, and
    /// <see cref="HoldsLiteral"/> rules it out before any pattern runs.
    /// </summary>
    internal static readonly string[] Literals =
        ["A3T", "AKIA", "ASIA", "ABIA", "ACCA", "AIza", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "gldt-", "glrt-", "glcbt-", "glptt-", "gloas-", "AccountKey=", "PRIVATE KEY", "eyJ", "Q~"];

    /// <summary>
    /// One of these characters is in every literal of <see cref="Literals"/>: 'A' (the AWS and Google key ids,
    /// "AccountKey=", "PRIVATE KEY"), 'J' ("eyJ"), '_' (GitHub), '-' (GitLab), '~' (Azure). Prose has few of them: a
    /// vectorised search goes from one to the next, and only there is a literal looked for.
    /// </summary>
    private static readonly System.Buffers.SearchValues<char> Anchors = System.Buffers.SearchValues.Create("AJ_-~");

    /// <summary><see cref="Anchors"/> as bytes, for plain ASCII read straight from UTF-8: a text with none holds no literal.</summary>
    internal static readonly System.Buffers.SearchValues<byte> AnchorBytes = System.Buffers.SearchValues.Create("AJ_-~"u8);

    public override void Find(ReadOnlySpan<char> text, int index, ref List<Finding>? sink)
    {
        if (HoldsLiteral(text))
        {
            Match(text, index, ref sink, shortcuts: true);
        }
    }

    /// <summary>
    /// True when one of <see cref="Literals"/> is in <paramref name="text"/>. Each literal is looked for around each of
    /// its anchor characters, at the place that character has in it: every 'A' as the first character of the literals
    /// that begin with one and as the fifth of "PRIVATE KEY", every 'J' as the third of "eyJ", every '_' and '-' as the
    /// end of the GitHub and GitLab prefixes (and the first '_' of "github_pat_"), every '~' after a 'Q'. A literal with
    /// an 'A' inside ("AKIA") begins with one too, so it is seen from its first.
    /// </summary>
    internal static bool HoldsLiteral(ReadOnlySpan<char> text)
    {
        for (var i = text.IndexOfAny(Anchors); i >= 0;)
        {
            if (LiteralAround(text, i))
            {
                return true;
            }
            var after = i + 1;
            if (text[i] == '-' && after < text.Length && text[after] == '-')
            {
                // Only the first '-' of a run can end a GitLab prefix (the others follow a '-'): "-----" is passed in one step.
                var run = text[after..].IndexOfAnyExcept('-');
                if (run < 0)
                {
                    return false;
                }
                after += run;
            }
            var next = text[after..].IndexOfAny(Anchors);
            i = next < 0 ? -1 : after + next;
        }
        return false;
    }

    /// <summary>
    /// Whether a literal holds the anchor character at <paramref name="i"/>. Each case first reads the one character that
    /// tells prose from a literal (the one after an 'A', the one before a '-'), then compares the literals it leaves.
    /// </summary>
    private static bool LiteralAround(ReadOnlySpan<char> text, int i)
    {
        var before = text[..i];
        switch (text[i])
        {
            case 'A':
                var from = text[i..];
                return (from.Length >= 3 && from[1] is '3' or 'K' or 'S' or 'B' or 'C' or 'I' or 'c'
                        && (from.StartsWith("A3T", StringComparison.Ordinal) || from.StartsWith("AKIA", StringComparison.Ordinal)
                            || from.StartsWith("ASIA", StringComparison.Ordinal) || from.StartsWith("ABIA", StringComparison.Ordinal)
                            || from.StartsWith("ACCA", StringComparison.Ordinal) || from.StartsWith("AIza", StringComparison.Ordinal)
                            || from.StartsWith("AccountKey=", StringComparison.Ordinal)))
                    || (i >= 4 && text[i - 4] == 'P' && text[(i - 4)..].StartsWith("PRIVATE KEY", StringComparison.Ordinal));
            case 'J':
                return before.EndsWith("ey", StringComparison.Ordinal);
            case '_':
                return (before.Length >= 3 && before[^3] == 'g' && before[^2] == 'h' && before[^1] is 'p' or 'o' or 'u' or 's' or 'r')
                    || (i >= 6 && text[i - 6] == 'g' && text[(i - 6)..].StartsWith("github_pat_", StringComparison.Ordinal));
            case '-':
                // "glpat", "gldt", "glrt", "glcbt", "glptt", "gloas": each ends in 't' or 's'.
                return before.Length >= 4 && before[^1] is 't' or 's'
                    && (before.EndsWith("glpat", StringComparison.Ordinal) || before.EndsWith("gldt", StringComparison.Ordinal)
                        || before.EndsWith("glrt", StringComparison.Ordinal) || before.EndsWith("glcbt", StringComparison.Ordinal)
                        || before.EndsWith("glptt", StringComparison.Ordinal) || before.EndsWith("gloas", StringComparison.Ordinal));
            default: // '~'
                return before.EndsWith('Q');
        }
    }

    /// <summary>"Q~", looked for only where there is a '~' (rare in prose, and a cheaper search).</summary>
    private static bool HasAzureMark(ReadOnlySpan<char> text) => text.Contains('~') && text.Contains("Q~", StringComparison.Ordinal);

    /// <summary>Every pattern over the whole text, none skipped: what <see cref="Find"/> must equal.</summary>
    public override void FindWithoutShortcuts(ReadOnlySpan<char> text, int index, ref List<Finding>? sink) =>
        Match(text, index, ref sink, shortcuts: false);

    /// <summary>Each pattern runs only where its literal occurs (<paramref name="shortcuts"/>), or everywhere.</summary>
    private static void Match(ReadOnlySpan<char> text, int index, ref List<Finding>? sink, bool shortcuts)
    {
        foreach (var match in Token().EnumerateMatches(text))
        {
            Add(ref sink, index, match.Index, match.Length);
        }
        if (!shortcuts || HasAzureMark(text) || text.Contains("AccountKey=", StringComparison.Ordinal))
        {
            foreach (var match in Azure().EnumerateMatches(text))
            {
                Add(ref sink, index, match.Index, match.Length);
            }
        }
        if (!shortcuts || text.Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            foreach (var match in PrivateKey().EnumerateMatches(text))
            {
                Add(ref sink, index, match.Index, match.Length);
            }
        }
        if (!shortcuts || text.Contains("eyJ", StringComparison.Ordinal))
        {
            foreach (var match in Jwt().EnumerateMatches(text))
            {
                if (IsJwtHeader(text.Slice(match.Index, text.Slice(match.Index, match.Length).IndexOf('.'))))
                {
                    Add(ref sink, index, match.Index, match.Length);
                }
            }
        }
    }

    /// <summary>The first part of a JWT is base64url of a JSON object naming its algorithm or type.</summary>
    private static bool IsJwtHeader(ReadOnlySpan<char> part)
    {
        if (part.Length > 512)
        {
            return true; // a header this long is unusual; a long "eyJ…" with two more parts is still a token
        }
        Span<byte> decoded = stackalloc byte[384];
        if (Base64Url.DecodeFromChars(part, decoded, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }
        var json = decoded[..written];
        return json.Length > 2 && json[0] == (byte)'{'
            && (json.IndexOf("\"alg\""u8) >= 0 || json.IndexOf("\"typ\""u8) >= 0 || json.IndexOf("\"kid\""u8) >= 0);
    }
}
