using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>What the boundary's property tests compare a shortcut with, in one place.</summary>
internal static class DetectorChecks
{
    /// <summary>A detector's findings in <paramref name="text"/>, with its shortcuts or (<paramref name="whole"/>) without.</summary>
    public static List<Finding> Hits(Detector detector, ReadOnlySpan<char> text, bool whole)
    {
        List<Finding>? sink = null;
        if (whole)
        {
            detector.FindWithoutShortcuts(text, 0, ref sink);
        }
        else
        {
            detector.Find(text, 0, ref sink);
        }
        return sink ?? [];
    }

    /// <summary>True when <see cref="Normalized.Of"/> gives the full normal form of <paramref name="text"/> and maps every offset back as it does.</summary>
    public static bool NormalFormIsTheFullOne(string text)
    {
        using var fast = Normalized.Of(text);
        using var full = Normalized.Full(text);
        if (!fast.Text.SequenceEqual(full.Text))
        {
            return false;
        }
        for (var i = 0; i <= fast.Text.Length; i++)
        {
            if (fast.OriginalOffset(i) != full.OriginalOffset(i) || (i < fast.Text.Length && fast.ToOriginal(i, 1) != full.ToOriginal(i, 1)))
            {
                return false;
            }
        }
        return true;
    }
}
