using System.Text;

namespace Pilotage.Server.Audit;

/// <summary>
/// The witness file: every signed checkpoint, appended and flushed to disk, one after another with a blank
/// line between. It lives outside the store (beside the key by default), ideally on other storage.
/// </summary>
public static class AuditWitness
{
    public static void Append(string path, string note)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var bytes = Encoding.UTF8.GetBytes(note + "\n");
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>The notes in a witness file, in the order written. Text that is not a note is returned as it is, for verify to report.</summary>
    public static IEnumerable<string> Read(string path)
    {
        if (!File.Exists(path)) yield break;
        var note = new StringBuilder();
        var inSignatures = false;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            if (line.Length == 0)
            {
                if (!inSignatures && note.Length > 0)
                {
                    note.Append('\n');
                    inSignatures = true;
                    continue;
                }
                if (note.Length > 0) yield return note.ToString();
                note.Clear();
                inSignatures = false;
                continue;
            }
            note.Append(line).Append('\n');
        }
        if (note.Length > 0) yield return note.ToString();
    }
}
