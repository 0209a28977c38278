using System.Collections.Concurrent;
using System.Globalization;
using Npgsql;
using Pilotage.Server.Replicas;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Gateway.Allowances;

/// <summary>
/// Limits counted across every replica on one PostgreSQL store, without a database round trip per request.
/// Each replica leases a slice of what remains of a limit in a window (a quarter of it shared among the
/// replicas holding slices, at least 1), serves requests from the slice in memory, reports what it spent and
/// gives back what it is not using every <see cref="AllowanceOptions.ReturnInterval"/>. A slice is taken from
/// what remains, so the total handed out never exceeds the limit. When a replica finds nothing left while
/// others hold slices, it asks them to give theirs back (NOTIFY) and tries again briefly. On SQLite there is
/// one process and the in-memory limits apply instead (<see cref="Enabled"/> is false).
/// </summary>
public sealed class ClusterAllowances(StoreLocation location, TimeProvider time, ILogger<ClusterAllowances> logger) : BackgroundService
{
    private static readonly TimeSpan[] RecallWaits = [TimeSpan.FromMilliseconds(15), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(150)];

    private readonly ConcurrentDictionary<(string Key, long Window), Slice> _slices = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly AllowanceOptions _options = AllowanceOptions.FromEnvironment(Environment.GetEnvironmentVariable);
    private AllowanceStore? _store;

    public bool Enabled { get; } = location.Provider == StoreProvider.PostgreSql;

    private AllowanceStore Store => _store ??= new AllowanceStore(location, _options);

    private TimeSpan ReturnInterval => _options.ReturnInterval;

    /// <summary>
    /// Takes <paramref name="units"/> of the limit <paramref name="key"/> in the window starting at
    /// <paramref name="window"/> (unix seconds); with 0 units, only asks that some of it is left (money,
    /// whose cost is known after the answer). Also returns the limit's total handed out, for messages.
    /// </summary>
    public async ValueTask<(AllowanceOutcome Outcome, long Used)> TakeAsync(string key, long window, DateTimeOffset ends, long limit, long units)
    {
        var slice = _slices.GetOrAdd((key, window), static (k, ends) => new Slice(k.Key, k.Window, ends), ends);
        var now = time.GetUtcNow();
        lock (slice.Gate)
        {
            slice.Limit = limit;
            if (slice.TryTake(units, now)) return (AllowanceOutcome.Granted, slice.Used);
            if (slice.ExhaustedUntil > now) return (AllowanceOutcome.Exhausted, slice.Used);
        }
        await slice.Turn.WaitAsync();
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                lock (slice.Gate)
                {
                    // Another request of this replica may have leased while this one waited its turn.
                    if (slice.TryTake(units, time.GetUtcNow())) return (AllowanceOutcome.Granted, slice.Used);
                }
                var answer = await ReportAsync(slice, giveBack: false, lease: true);
                lock (slice.Gate)
                {
                    if (slice.TryTake(units, time.GetUtcNow())) return (AllowanceOutcome.Granted, slice.Used);
                }
                if (answer.Holders == 0 || attempt == RecallWaits.Length)
                {
                    lock (slice.Gate) slice.ExhaustedUntil = time.GetUtcNow() + ReturnInterval;
                    return (AllowanceOutcome.Exhausted, answer.Used);
                }
                if (attempt == 0) await Store.RecallAsync(key, window, CancellationToken.None);
                await Task.Delay(RecallWaits[attempt], time);
            }
        }
#pragma warning disable CA1031 // Whatever stops the store answering (network, timeout, failover), the limit fails closed.
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException)
#pragma warning restore CA1031
        {
            logger.LogWarning("Limits: could not lease from the store for {Key}; refusing until it answers: {Reason}", key, e.Message);
            return (AllowanceOutcome.Unreachable, slice.Used);
        }
        finally
        {
            slice.Turn.Release();
        }
    }

    /// <summary>Counts what an answer cost against a limit this replica holds in that window (money, after the fact).</summary>
    public void Spend(string key, long window, long units)
    {
        if (units <= 0 || !_slices.TryGetValue((key, window), out var slice)) return;
        bool overran;
        lock (slice.Gate)
        {
            slice.Spend(units, time.GetUtcNow());
            overran = slice.Overrun > 0;
            // Spent past the slice: reported now, and when that reaches the limit the others give theirs back, so
            // the budget is passed by no more than the answers already in flight.
            if (overran) slice.Recalled = true;
        }
        if (overran) Wake();
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // A flush is already due.
        }
    }

    /// <summary>Reports and leases under the slice's turn (the caller holds it); on failure, what was spent is reported next time.</summary>
    private async Task<AllowanceAnswer> ReportAsync(Slice slice, bool giveBack, bool lease)
    {
        AllowanceReport report;
        lock (slice.Gate)
        {
            report = new(slice.Consumed, slice.Overrun, giveBack ? slice.Balance : 0, lease);
            slice.Consumed = 0;
            slice.Overrun = 0;
            slice.Balance -= report.Returned;
            if (giveBack) slice.Recalled = false;
        }
        AllowanceAnswer answer;
        try
        {
            answer = await Store.CallAsync(slice.Key, slice.Window, slice.Limit, report, CancellationToken.None);
        }
        catch
        {
            // Unknown whether it committed: spending is reported again (counted twice at worst: the safe side);
            // a slice given back is not taken again (lost for this window at worst, never spent twice).
            lock (slice.Gate)
            {
                slice.Consumed += report.Consumed;
                slice.Overrun += report.Overrun;
            }
            throw;
        }
        lock (slice.Gate)
        {
            slice.Balance += answer.Granted;
            slice.Used = answer.Used;
        }
        return answer;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled) return;
        var options = _options;
        logger.LogInformation("Limits: shared by the replicas through the store (slices given back every {Return} s; a lease lasts {Lease} s unrenewed)",
            options.ReturnInterval.TotalSeconds, options.LeaseTime.TotalSeconds);
        // Without LISTEN (PILOTAGE_REPLICA_LISTEN=off, e.g. behind a transaction pooler) recalls are not heard:
        // unused slices still go back within two intervals.
        var listening = ReplicaOptions.FromEnvironment(Environment.GetEnvironmentVariable).Listen
            ? new AllowanceRecalls(Store, OnRecall, time, logger).ListenAsync(stoppingToken)
            : Task.CompletedTask;
        var lastCleanup = time.GetUtcNow();
        try
        {
            while (true)
            {
                var woken = await _wake.WaitAsync(options.ReturnInterval, stoppingToken);
                await FlushAsync(onlyRecalled: woken, all: false);
                if (time.GetUtcNow() - lastCleanup > TimeSpan.FromMinutes(5))
                {
                    lastCleanup = time.GetUtcNow();
                    await Quietly(() => Store.ForgetOldWindowsAsync(lastCleanup.ToUnixTimeSeconds(), stoppingToken));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // Shutting down: everything unused goes back to the others now.
        await FlushAsync(onlyRecalled: false, all: true);
        await listening;
    }

    /// <summary>
    /// Reports every slice with something to say (which renews its lease); gives back the recalled and finished
    /// ones, and the idle ones (unused for two intervals: a slice in use is not given back between two requests).
    /// </summary>
    private async Task FlushAsync(bool onlyRecalled, bool all)
    {
        var now = time.GetUtcNow();
        var interval = ReturnInterval;
        foreach (var (id, slice) in _slices)
        {
            bool over, giveBack, pending;
            lock (slice.Gate)
            {
                over = slice.Ends <= now;
                giveBack = all || over || slice.Recalled || now - slice.LastUse >= 2 * interval;
                pending = slice.Consumed > 0 || slice.Overrun > 0 || slice.Balance > 0;
                if (onlyRecalled && !slice.Recalled) continue;
            }
            if (pending)
            {
                await slice.Turn.WaitAsync();
                try
                {
                    await Quietly(async () =>
                    {
                        bool overran;
                        lock (slice.Gate) overran = slice.Overrun > 0;
                        var answer = await ReportAsync(slice, giveBack, lease: false);
                        if (overran && answer.Used >= slice.Limit && answer.Holders > 0) await Store.RecallAsync(slice.Key, slice.Window, CancellationToken.None);
                    });
                }
                finally
                {
                    slice.Turn.Release();
                }
            }
            lock (slice.Gate)
            {
                if (over && slice.Consumed == 0 && slice.Overrun == 0 && slice.Balance == 0) _slices.TryRemove(id, out _);
            }
        }
    }

    private async Task Quietly(Func<Task> work)
    {
        try
        {
            await work();
        }
#pragma warning disable CA1031 // A report that fails is made again at the next tick.
        catch (Exception e)
#pragma warning restore CA1031
        {
            logger.LogWarning("Limits: reporting to the store failed; trying again in a moment: {Reason}", e.Message);
        }
    }

    private void OnRecall(string payload)
    {
        var parts = payload.Split(' ', 3);
        if (parts.Length != 3 || parts[0] == Store.Replica.ToString("N")
            || !long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var window)
            || !_slices.TryGetValue((parts[2], window), out var slice)) return;
        lock (slice.Gate)
        {
            if (slice.Balance <= 0) return;
            slice.Recalled = true;
        }
        Wake();
    }

    public override void Dispose()
    {
        _wake.Dispose();
        _store?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose();
    }
}
