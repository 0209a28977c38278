using System.Globalization;

namespace Pilotage.Core.Audit.Checkpoints;

/// <summary>
/// A C2SP tlog-checkpoint body: the log's origin, its tree size and its root hash, one per line. Signed
/// with the audit key, it commits the log to every entry up to that size.
/// </summary>
public sealed record AuditCheckpoint(string Origin, long TreeSize, byte[] RootHash)
{
    public string Body() =>
        $"{Origin}\n{TreeSize.ToString(CultureInfo.InvariantCulture)}\n{Convert.ToBase64String(RootHash)}\n";

    public string RootHex => Convert.ToHexStringLower(RootHash);

    /// <summary>Reads a checkpoint body (the text of a verified note); a malformed one is a <see cref="FormatException"/>.</summary>
    public static AuditCheckpoint Parse(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var lines = body.Split('\n');
        // Three lines, optional extension lines, and the final newline's empty tail.
        if (lines.Length < 4 || lines[^1].Length != 0) throw new FormatException("a checkpoint has an origin line, a tree size line and a root hash line");
        var origin = lines[0];
        if (origin.Length == 0) throw new FormatException("the checkpoint's origin line is empty");
        var sizeText = lines[1];
        if (sizeText.Length == 0 || sizeText.Any(c => c is < '0' or > '9') || (sizeText.Length > 1 && sizeText[0] == '0')
            || !long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw new FormatException($"the checkpoint's tree size '{sizeText}' is not a decimal number");
        }
        byte[] root;
        try
        {
            root = Convert.FromBase64String(lines[2]);
        }
        catch (FormatException)
        {
            throw new FormatException("the checkpoint's root hash is not valid base64");
        }
        if (root.Length != Merkle.MerkleHash.Size) throw new FormatException("the checkpoint's root hash is not 32 bytes (SHA-256)");
        return new AuditCheckpoint(origin, size, root);
    }

    public bool Equals(AuditCheckpoint? other) =>
        other is not null && Origin == other.Origin && TreeSize == other.TreeSize && RootHash.AsSpan().SequenceEqual(other.RootHash);

    public override int GetHashCode() => HashCode.Combine(Origin, TreeSize);
}

/// <summary>A signed checkpoint opened with the log's key: the checkpoint, or why it cannot be trusted.</summary>
public sealed record OpenedCheckpoint(NoteOutcome Outcome, AuditCheckpoint? Checkpoint, string Detail)
{
    public static OpenedCheckpoint Open(string note, NoteVerifier verifier)
    {
        var opened = SignedNote.Open(note, verifier);
        if (opened.Outcome != NoteOutcome.Verified) return new OpenedCheckpoint(opened.Outcome, null, opened.Detail);
        try
        {
            var checkpoint = AuditCheckpoint.Parse(opened.Text!);
            // The origin is the key's name: a checkpoint of another log signed with this key is refused.
            return checkpoint.Origin == verifier.Name
                ? new OpenedCheckpoint(NoteOutcome.Verified, checkpoint, opened.Detail)
                : new OpenedCheckpoint(NoteOutcome.Malformed, null, $"the checkpoint is of the log '{checkpoint.Origin}', not '{verifier.Name}'");
        }
        catch (FormatException e)
        {
            return new OpenedCheckpoint(NoteOutcome.Malformed, null, e.Message);
        }
    }
}
