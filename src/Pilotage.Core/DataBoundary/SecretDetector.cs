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
    /// Every format's distinctive literal but the Azure secret's "Q~": vectorised searches (this one and one for "Q~") rule
    /// a text out before any regex runs. Without the two-character literal, the set is searched three characters at a
    /// time, which in prose is several times faster.
    /// </summary>
    private static readonly System.Buffers.SearchValues<string> Prefixes = System.Buffers.SearchValues.Create(
        ["A3T", "AKIA", "ASIA", "ABIA", "ACCA", "AIza", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "gldt-", "glrt-", "glcbt-", "glptt-", "gloas-", "AccountKey=", "PRIVATE KEY", "eyJ"],
        StringComparison.Ordinal);

    /// <summary>
    /// One of these characters is in every literal of <see cref="Prefixes"/> and in "Q~": 'A' (the AWS and Google key ids,
    /// "AccountKey=", "PRIVATE KEY"), 'J' ("eyJ"), '_' (GitHub), '-' (GitLab), '~' (Azure). Prose has few of them, and a
    /// search for single characters costs a fraction of the search for strings, which on a short text costs more than
    /// the whole of the rest of its scan.
    /// </summary>
    private static readonly System.Buffers.SearchValues<char> Anchors = System.Buffers.SearchValues.Create("AJ_-~");

    /// <summary>The longest literal of <see cref="Prefixes"/> ("github_pat_", "AccountKey=", "PRIVATE KEY").</summary>
    private const int LongestPrefix = 11;

    public override void Find(ReadOnlySpan<char> text, int index, ref List<Finding>? sink)
    {
        // A literal holds an anchor, and the first anchor of the text is at 'anchor': every literal in it starts at most
        // LongestPrefix - 1 characters before, so the search for literals starts there.
        var anchor = text.IndexOfAny(Anchors);
        if (anchor < 0)
        {
            return;
        }
        var from = Math.Max(0, anchor - (LongestPrefix - 1));
        if (text[from..].IndexOfAny(Prefixes) < 0 && !HasAzureMark(text[from..]))
        {
            return;
        }
        Match(text, index, ref sink, shortcuts: true);
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
