using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Replicas;

/// <summary>
/// How a replica follows changes made through the others. From the environment, so that operators set
/// it per deployment: <c>PILOTAGE_REPLICA_LISTEN</c> (<c>on</c>/<c>off</c>, default on) and
/// <c>PILOTAGE_REPLICA_CHECK_SECONDS</c> (the safety-net interval, default 5, 0.2 to 3600).
/// </summary>
public sealed record ReplicaOptions(bool Listen, TimeSpan CheckInterval)
{
    public static ReplicaOptions Default { get; } = new(true, TimeSpan.FromSeconds(5));

    public static ReplicaOptions FromEnvironment(Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        var listen = read("PILOTAGE_REPLICA_LISTEN")?.Trim().ToLowerInvariant() switch
        {
            null or "" or "on" or "true" or "1" => true,
            "off" or "false" or "0" => false,
            var other => throw new ArgumentException($"PILOTAGE_REPLICA_LISTEN is '{other}'; use 'on' (the default) or 'off' (safety-net checks only)."),
        };
        var interval = Default.CheckInterval;
        if (read("PILOTAGE_REPLICA_CHECK_SECONDS") is { Length: > 0 } text)
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds < 0.2 || seconds > 3600)
            {
                throw new ArgumentException($"PILOTAGE_REPLICA_CHECK_SECONDS is '{text}'; give a number of seconds between 0.2 and 3600 (default 5).");
            }
            interval = TimeSpan.FromSeconds(seconds);
        }
        return new ReplicaOptions(listen, interval);
    }
}

/// <summary>
/// Keeps this replica's control-plane state (the gateway's policy snapshot, the pause-rule engine's view)
/// in step with changes committed through any other replica on the same PostgreSQL database.
/// Every command announces its audit sequence on <see cref="ControlPlane.ReplicaChannel"/> when it commits;
/// a dedicated connection LISTENs and asks for a refresh, reconnecting with backoff when it drops. A
/// periodic comparison of the store's audit head with the last sequence applied is the safety net for a
/// lost notification or connection. Refreshes are coalesced: one at a time, always ending at the newest.
/// On SQLite there is one process per store and nothing to follow.
/// </summary>
public sealed class ReplicaSync(PilotageStore store, ControlPlane control, IEnumerable<ICommitObserver> observers, TimeProvider time, ILogger<ReplicaSync> logger)
    : BackgroundService
{
    private readonly ICommitObserver[] _observers = [.. observers];
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly ReplicaOptions _options = ReplicaOptions.FromEnvironment(Environment.GetEnvironmentVariable);
    private long _applied;
    private long _wanted;
    private long _refreshes;

    /// <summary>The newest audit sequence this replica's state reflects (its own commits included).</summary>
    public long AppliedSequence => Math.Max(Interlocked.Read(ref _applied), control.LastCommittedSequence);

    /// <summary>Refreshes made for changes committed elsewhere (for logs and tests).</summary>
    public long Refreshes => Interlocked.Read(ref _refreshes);

    public ReplicaOptions Options => _options;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (store.Location.Provider != StoreProvider.PostgreSql) return;
        // Nothing is taken as applied yet: a change committed elsewhere between the start-up snapshot and
        // the first LISTEN would otherwise be missed. The first refresh (on connecting) costs one rebuild.
        if (_options.Listen)
        {
            logger.LogInformation("Replicas: following changes from other replicas (LISTEN {Channel}; safety-net check every {Seconds} s)",
                ControlPlane.ReplicaChannel, _options.CheckInterval.TotalSeconds);
        }
        else
        {
            logger.LogWarning("Replicas: LISTEN off (PILOTAGE_REPLICA_LISTEN=off): changes made through other replicas arrive only with the safety-net check, every {Seconds} s",
                _options.CheckInterval.TotalSeconds);
        }
        var tasks = new List<Task> { RefreshLoopAsync(stoppingToken), SafetyNetAsync(stoppingToken) };
        if (_options.Listen) tasks.Add(ListenLoopAsync(stoppingToken));
        await Task.WhenAll(tasks);
    }

    /// <summary>Asks for a refresh up to <paramref name="sequence"/>; cheap, never blocks.</summary>
    private void Request(long sequence)
    {
        var current = Interlocked.Read(ref _wanted);
        while (sequence > current)
        {
            var seen = Interlocked.CompareExchange(ref _wanted, sequence, current);
            if (seen == current) break;
            current = seen;
        }
        if (sequence > AppliedSequence) Wake();
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // A refresh is already due; it will read the newest head.
        }
    }

    private async Task RefreshLoopAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await _wake.WaitAsync(ct);
                try
                {
                    await RefreshIfBehindAsync(ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The next notification or safety-net check tries again.
                    logger.LogWarning("Replicas: refreshing from the store failed: {Reason}", e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Reads the head, and when this replica is behind it, rebuilds what follows the control plane.</summary>
    private async Task RefreshIfBehindAsync(CancellationToken ct)
    {
        // A notified sequence is already committed, so the state loaded now reflects at least it; with
        // none pending (a safety-net check), the head is read BEFORE the rebuild for the same reason.
        var wanted = Interlocked.Read(ref _wanted);
        var head = wanted > AppliedSequence ? wanted : await HeadAsync(ct);
        if (head <= AppliedSequence) return;
        foreach (var observer in _observers) await observer.OnCommittedAsync(ct);
        Interlocked.Increment(ref _refreshes);
        var current = Interlocked.Read(ref _applied);
        if (head > current) Interlocked.CompareExchange(ref _applied, head, current);
        logger.LogDebug("Replicas: refreshed to audit sequence {Sequence}", head);
    }

    private async Task<long> HeadAsync(CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        return await db.AuditHead.AsNoTracking().Where(h => h.Id == 1).Select(h => h.Sequence).FirstOrDefaultAsync(ct);
    }

    private async Task SafetyNetAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_options.CheckInterval, time, ct);
                // The refresh loop reads the head and does nothing when this replica is current.
                Wake();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task ListenLoopAsync(CancellationToken ct)
    {
        var attempt = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                // Its own unpooled connection: a pooled one would drop the LISTEN when returned.
                var builder = new NpgsqlConnectionStringBuilder(store.Location.ConnectionString)
                {
                    Pooling = false,
                    KeepAlive = 15,
                    ApplicationName = "pilotage replica listener",
                };
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                connection.Notification += OnNotification;
                await connection.OpenAsync(ct);
                await using (var listen = new NpgsqlCommand($"LISTEN {ControlPlane.ReplicaChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }
                if (attempt > 0) logger.LogInformation("Replicas: listening again after {Attempts} failed attempt(s)", attempt);
                attempt = 0;
                // Whatever was committed while this connection was down is caught up now.
                Wake();
                while (true) await connection.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Whatever broke the connection, listening must resume; the safety net covers the gap.
            catch (Exception e)
#pragma warning restore CA1031
            {
                attempt++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(10_000, 250 * Math.Pow(2, Math.Min(attempt - 1, 6))));
                logger.LogWarning("Replicas: the LISTEN connection failed (attempt {Attempt}); the safety net covers the gap; retrying in {Delay} ms: {Reason}",
                    attempt, (int)delay.TotalMilliseconds, e.Message);
                try
                {
                    await Task.Delay(delay, time, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (long.TryParse(e.Payload, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)) Request(sequence);
        else Wake();
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }
}
