using System.Collections.Frozen;
using System.Text;

namespace Pilotage.Core.TestSets;

/// <summary>
/// Recognises an answer that declines or escalates, from the phrases models and people use for it.
/// A heuristic by nature: phrases are matched on word boundaries after normalising case, curly
/// apostrophes and whitespace, so "I can’t", "I CAN'T" and "I\ncannot" all count, but "you can't" does not.
/// </summary>
public static class RefusalDetector
{
    /// <summary>Normalised phrases (lowercase, straight apostrophes, single spaces), roughly from most to least specific.</summary>
    public static IReadOnlyList<string> Phrases { get; } =
    [
        "i'm sorry, but", "i am sorry, but", "sorry, but i", "i apologize, but", "i apologise, but",
        "i can't", "i cannot", "i can not", "i won't be able", "i will not be able", "i'm not able to", "i am not able to",
        "not able to", "unable to", "i'm not allowed", "i am not allowed", "i'm not permitted", "not permitted to",
        "i must decline", "i have to decline", "i need to decline", "i'm declining", "i decline to",
        "i'm not in a position to", "i am not in a position to", "i don't have access", "i do not have access",
        "i don't have information", "i do not have information", "i don't know", "i do not know",
        "can't help with", "cannot help with", "can't assist", "cannot assist", "can't provide", "cannot provide",
        "can't share", "cannot share", "can't process", "cannot process",
        "outside my scope", "outside the scope", "out of scope", "beyond my scope", "beyond the scope", "not within my scope",
        // Pointing elsewhere counts as declining; broader phrases ("contact the", "escalation") are left out
        // because ordinary answers use them ("the escalation policy says…") and refuses: false would misfire.
        "please contact", "please reach out to", "escalate", "escalated", "escalating", "i'll escalate",
        "hand this over to", "forward this to", "refer you to", "referring you to",
    ];

    private static readonly FrozenSet<char> Apostrophes = FrozenSet.ToFrozenSet(['\u2019', '\u2018', '\u02BC', '\u0060', '\u00B4']);

    /// <summary>Answers longer than this are only searched in their first part: a refusal comes first, and it bounds the work.</summary>
    public const int MaxScannedChars = 20_000;

    /// <summary>The first refusal phrase found in <paramref name="answer"/>, or null when it reads as an answer.</summary>
    public static string? Find(string? answer)
    {
        if (string.IsNullOrWhiteSpace(answer))
        {
            return null;
        }
        var text = Normalise(answer.Length > MaxScannedChars ? answer[..MaxScannedChars] : answer);
        foreach (var phrase in Phrases)
        {
            for (var at = text.IndexOf(phrase, StringComparison.Ordinal); at >= 0; at = text.IndexOf(phrase, at + 1, StringComparison.Ordinal))
            {
                // Word boundaries, so "escalate" does not fire inside "de-escalated" and "unable to" not inside "tunable to".
                var before = at == 0 || !char.IsLetter(text[at - 1]) && text[at - 1] != '-';
                var end = at + phrase.Length;
                var after = end == text.Length || !char.IsLetter(text[end]) || !char.IsLetter(phrase[^1]);
                if (before && after)
                {
                    return phrase;
                }
            }
        }
        return null;
    }

    /// <summary>Lowercase, straight apostrophes, every run of whitespace as one space.</summary>
    private static string Normalise(string text)
    {
        var builder = new StringBuilder(text.Length);
        var space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                space = builder.Length > 0;
                continue;
            }
            if (space)
            {
                builder.Append(' ');
                space = false;
            }
            builder.Append(Apostrophes.Contains(c) ? '\'' : char.ToLowerInvariant(c));
        }
        return builder.ToString();
    }
}
