using System.Globalization;
using System.Text;

namespace Pilotage.Core.Specs;

/// <summary>Reading an input file (a spec or a test set) without throwing: a problem becomes a message.</summary>
internal static class InputFile
{
    /// <summary>What errors call the file at <paramref name="path"/>: its file name, or the path when it has none.</summary>
    public static string SourceName(string path)
    {
        var source = Path.GetFileName(path);
        return string.IsNullOrEmpty(source) ? path : source;
    }

    /// <summary>
    /// Reads the file as UTF-8 and passes its text to <paramref name="read"/>. Returns null when done, or
    /// the problem to report when the file is missing, larger than <paramref name="maxBytes"/>
    /// (worded by <paramref name="tooLarge"/>) or cannot be read.
    /// </summary>
    public static string? Read(string path, long maxBytes, Func<long, string> tooLarge, Action<string> read)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return $"file not found: {path}";
            }
            if (info.Length > maxBytes)
            {
                return tooLarge(info.Length);
            }
            read(File.ReadAllText(path, Encoding.UTF8));
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return $"cannot read file: {e.Message}";
        }
    }

    /// <summary>A size in megabytes with one decimal, e.g. "1.5 MB".</summary>
    public static string Megabytes(long bytes) =>
        (bytes / (1024.0 * 1024.0)).ToString("0.0", CultureInfo.InvariantCulture) + " MB";
}
