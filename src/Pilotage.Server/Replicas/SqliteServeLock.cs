using Microsoft.Data.Sqlite;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Replicas;

/// <summary>
/// SQLite is a single-replica store: a change made through one process is never seen by another
/// serving the same file (a pause through one would not stop the other). While serving, this holds an
/// exclusive lock on <c>&lt;database&gt;.serving</c> next to the file, and says loudly when another
/// process already holds it. The operating system drops the lock when the process ends, even on SIGKILL.
/// </summary>
public sealed class SqliteServeLock(StoreLocation location, ILogger<SqliteServeLock> logger) : IHostedService, IDisposable
{
    private FileStream? _lock;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (location.Provider != StoreProvider.Sqlite) return Task.CompletedTask;
        var builder = new SqliteConnectionStringBuilder(location.ConnectionString);
        if (builder.Mode == SqliteOpenMode.Memory || builder.DataSource is "" or ":memory:") return Task.CompletedTask;
        var path = Path.GetFullPath(builder.DataSource) + ".serving";
        try
        {
            _lock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            logger.LogError(
                "Another Pilotage server is already serving the SQLite store {Path}. SQLite is a single-replica store: changes made through one process "
                + "(a pause, a revoked key) are NOT seen by the other until it restarts. Stop one of them, or run replicas on PostgreSQL (docs/operations.md, Replicas).",
                builder.DataSource);
        }
        catch (UnauthorizedAccessException e)
        {
            logger.LogDebug("Could not create {Path} to detect a second server on this SQLite store: {Reason}", path, e.Message);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }
}
