using Microsoft.Data.Sqlite;
using Npgsql;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Audit;

/// <summary>
/// Where the audit log's signing key and witness live and how often it signs a checkpoint (docs/audit.md).
/// <c>pilotage serve</c> fills it from <c>--audit-key</c>, <c>--audit-witness</c> and <c>PILOTAGE_AUDIT_*</c>.
/// </summary>
public sealed record AuditLogOptions
{
    /// <summary>The Ed25519 key file (signed-note signer key format, mode 0600); null: beside the store (<see cref="DefaultPaths"/>). Created on first start.</summary>
    public string? KeyPath { get; init; }

    /// <summary>The append-only file every checkpoint is written to; null: beside the key; empty: none.</summary>
    public string? WitnessPath { get; init; }

    /// <summary>A URL every checkpoint is also POSTed to (text/plain, the signed note); none when null.</summary>
    public Uri? WitnessUrl { get; init; }

    /// <summary>A checkpoint after this many new entries...</summary>
    public int CheckpointEveryEntries { get; init; } = 100;

    /// <summary>...or this long after the first entry the last checkpoint does not cover, whichever comes first.</summary>
    public TimeSpan CheckpointEvery { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The key and witness files this store uses when none are given: beside a SQLite file, or under the user's data folder for PostgreSQL.</summary>
    public (string Key, string Witness) ResolvePaths(StoreLocation location)
    {
        var (key, witness) = DefaultPaths(location);
        var keyPath = string.IsNullOrWhiteSpace(KeyPath) ? key : Path.GetFullPath(KeyPath);
        var witnessPath = WitnessPath switch
        {
            null => string.IsNullOrWhiteSpace(KeyPath) ? witness : keyPath + ".witness",
            _ => WitnessPath.Length == 0 ? "" : Path.GetFullPath(WitnessPath),
        };
        return (keyPath, witnessPath);
    }

    public static (string Key, string Witness) DefaultPaths(StoreLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        string folder;
        string name;
        if (location.Provider == StoreProvider.Sqlite)
        {
            var builder = new SqliteConnectionStringBuilder(location.ConnectionString);
            var source = builder.DataSource;
            if (string.IsNullOrEmpty(source) || source == ":memory:" || builder.Mode == SqliteOpenMode.Memory || source.StartsWith("file::memory:", StringComparison.Ordinal))
            {
                folder = DataFolder();
                name = "memory";
            }
            else
            {
                var full = Path.GetFullPath(source);
                folder = Path.GetDirectoryName(full) ?? ".";
                name = Path.GetFileName(full);
            }
        }
        else
        {
            var pg = new NpgsqlConnectionStringBuilder(location.ConnectionString);
            folder = DataFolder();
            name = string.Concat($"{pg.Host}-{pg.Port}-{pg.Database ?? pg.Username}".Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '_'));
        }
        return (Path.Combine(folder, name + ".audit-key"), Path.Combine(folder, name + ".audit-witness"));
    }

    private static string DataFolder() => Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "pilotage", "audit");
}
