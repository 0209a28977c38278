using System.Security.Cryptography;
using Pilotage.Core.Audit.Checkpoints;

namespace Pilotage.Server.Audit;

/// <summary>
/// The audit signing key, kept in a file outside the store so that whoever can write the store cannot sign.
/// Created on first start with owner-only permissions (0600) and read as it is on every start after.
/// </summary>
public static class AuditKeyFile
{
    /// <summary>Reads the key, or creates it when the file does not exist. A file that is not a key stops the start with a message saying so.</summary>
    public static NoteSigner LoadOrCreate(string path, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (File.Exists(path)) return Load(path, logger);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        // The name is the log's origin in every checkpoint: random, so two Pilotage logs never share one.
        var signer = NoteSigner.Generate($"pilotage-audit-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");
        var temp = path + "." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)) + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.WriteLine(signer.Encode());
        }
        try
        {
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another replica sharing the folder made it first: use theirs.
            File.Delete(temp);
            signer.Dispose();
            return Load(path, logger);
        }
        logger?.LogWarning("Created the audit signing key {Path} (keep it, and a copy of it, away from the database; docs/audit.md). Its public key: {PublicKey}", path, signer.Verifier.Encode());
        return signer;
    }

    private static NoteSigner Load(string path, ILogger? logger)
    {
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            logger?.LogWarning("The audit signing key {Path} can be read by other users; make it owner-only: chmod 600 {Path}", path, path);
        }
        try
        {
            return NoteSigner.Parse(File.ReadAllText(path));
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException($"the audit key file {path} is not an audit key ({e.Message}). Restore it from your copy, or move it away to start a new log key (older checkpoints then no longer verify).");
        }
    }
}
