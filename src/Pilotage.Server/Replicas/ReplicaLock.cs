using Microsoft.EntityFrameworkCore;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Replicas;

/// <summary>
/// A PostgreSQL session advisory lock that lets one replica at a time do a piece of background work
/// (sending webhooks), held on the context's own connection and released when the turn is disposed.
/// If the process dies, PostgreSQL ends the session and the lock goes with it. On SQLite (one process
/// per store) every caller gets a turn.
/// </summary>
public sealed class ReplicaLock : IAsyncDisposable
{
    /// <summary>Lock keys: arbitrary, fixed, distinct per kind of work.</summary>
    public const long Webhooks = 0x50_494C_4F54_0001;

    private readonly PilotageDbContext? _db;
    private readonly long _key;

    private ReplicaLock(PilotageDbContext? db, long key)
    {
        _db = db;
        _key = key;
    }

    /// <summary>This replica's turn, or null when another replica holds it (try again later).</summary>
    public static async Task<ReplicaLock?> TryTakeAsync(PilotageDbContext db, long key, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (db.Provider != StoreProvider.PostgreSql) return new ReplicaLock(null, key);
        // The session lock lives on one connection: keep it open for the context's lifetime.
        await db.Database.OpenConnectionAsync(ct);
        var taken = await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_lock({key}) AS \"Value\"").SingleAsync(ct);
        return taken ? new ReplicaLock(db, key) : null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_db is null) return;
        await _db.Database.SqlQuery<bool>($"SELECT pg_advisory_unlock({_key}) AS \"Value\"").SingleAsync();
    }
}
