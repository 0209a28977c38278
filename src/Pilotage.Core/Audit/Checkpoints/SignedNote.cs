using System.Buffers.Binary;
using System.Text;

namespace Pilotage.Core.Audit.Checkpoints;

/// <summary>What opening a signed note against a key found.</summary>
public enum NoteOutcome
{
    /// <summary>The key signed this text.</summary>
    Verified,
    /// <summary>Not a signed note at all (no blank line, bad signature lines, bad text).</summary>
    Malformed,
    /// <summary>No signature line by this key (its name and key hash); another key, or none, signed it.</summary>
    NotSignedByKey,
    /// <summary>A signature line by this key, but it does not verify: the text or the signature was changed.</summary>
    BadSignature,
}

public sealed record OpenedNote(NoteOutcome Outcome, string? Text, string Detail);

/// <summary>
/// The C2SP signed-note format: UTF-8 text ending in a newline, a blank line, then lines
/// <c>— name base64(4-byte key hash || signature)</c>.
/// </summary>
public static class SignedNote
{
    /// <summary>U+2014, the em dash every signature line begins with.</summary>
    public const string Dash = "\u2014";

    private const int MaxSignatures = 100;

    internal static void CheckText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0 || text[^1] != '\n') throw new FormatException("a note's text must end with a newline");
        if (text.Any(c => char.IsControl(c) && c != '\n')) throw new FormatException("a note's text holds a control character");
    }

    /// <summary>Opens a signed note with one key: the text when that key's signature verifies.</summary>
    public static OpenedNote Open(string note, NoteVerifier verifier)
    {
        ArgumentNullException.ThrowIfNull(note);
        ArgumentNullException.ThrowIfNull(verifier);
        var split = note.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0) return Malformed("it has no blank line between the text and the signatures");
        var text = note[..(split + 1)];
        try
        {
            CheckText(text);
        }
        catch (FormatException e)
        {
            return Malformed(e.Message);
        }
        var block = note[(split + 2)..];
        if (block.Length == 0 || block[^1] != '\n') return Malformed("its signature lines do not end with a newline");
        var lines = block[..^1].Split('\n');
        if (lines.Length > MaxSignatures) return Malformed($"it has more than {MaxSignatures} signatures");
        var sawOurs = false;
        foreach (var line in lines)
        {
            if (!line.StartsWith(Dash + " ", StringComparison.Ordinal)) return Malformed($"'{Shorten(line)}' is not a signature line ('— NAME SIGNATURE')");
            var fields = line[2..].Split(' ');
            if (fields.Length != 2) return Malformed($"'{Shorten(line)}' is not a signature line ('— NAME SIGNATURE')");
            byte[] blob;
            try
            {
                blob = Convert.FromBase64String(fields[1]);
            }
            catch (FormatException)
            {
                return Malformed($"the signature of '{Shorten(fields[0])}' is not valid base64");
            }
            if (blob.Length < 5) return Malformed($"the signature of '{Shorten(fields[0])}' is too short");
            if (fields[0] != verifier.Name || BinaryPrimitives.ReadUInt32BigEndian(blob) != verifier.KeyId) continue;
            sawOurs = true;
            if (verifier.Verify(Encoding.UTF8.GetBytes(text), blob.AsSpan(4)))
            {
                return new OpenedNote(NoteOutcome.Verified, text, $"signed by {verifier.Name}");
            }
        }
        return sawOurs
            ? new OpenedNote(NoteOutcome.BadSignature, null, $"the signature by {verifier.Name} does not match the text: the note was altered or forged")
            : new OpenedNote(NoteOutcome.NotSignedByKey, null, $"it carries no signature by the key {verifier.Name}+{verifier.KeyId:x8}: it was signed by another key, or forged");
    }

    private static OpenedNote Malformed(string why) => new(NoteOutcome.Malformed, null, $"not a signed note: {why}");

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
