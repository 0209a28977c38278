using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;

namespace Pilotage.Server.Gateway.Protocols.Anthropic;

/// <summary>
/// A client's <c>anthropic-beta</c> header, forwarded when its body passes through to an Anthropic upstream: the
/// beta fields it enables are in that body, and Anthropic refuses them without the header. Only names of Anthropic's
/// form go (letters, digits, dots, dashes and underscores), at most <see cref="MaxNames"/>: the header is the client's,
/// so nothing else of it reaches the upstream. A translated request keeps none, since its body is Pilotage's own.
/// </summary>
internal static partial class AnthropicBetas
{
    public const int MaxNames = 16;

    /// <summary>The names to forward (null when there are none), or why the header is refused.</summary>
    public static (string? Forwarded, string? Error) Read(StringValues header)
    {
        var names = new List<string>();
        foreach (var value in header)
        {
            foreach (var part in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!Name().IsMatch(part))
                {
                    return (null, $"the anthropic-beta header holds '{Shown(part)}', which is not a beta name (letters, digits, '.', '-' and '_', up to 64 characters); send names such as interleaved-thinking-2025-05-14, separated by commas");
                }
                if (!names.Contains(part, StringComparer.Ordinal)) names.Add(part);
            }
        }
        if (names.Count > MaxNames) return (null, $"the anthropic-beta header names {names.Count} betas; send at most {MaxNames}");
        return (names.Count == 0 ? null : string.Join(',', names), null);
    }

    private static string Shown(string part) => part.Length <= 64 ? part : part[..64] + "…";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex Name();
}
