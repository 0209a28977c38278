using System.Data.Common;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Npgsql;
using Pilotage.Core.Specs;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Evidence;

/// <summary>
/// The single writer of interaction evidence, with group commit: appenders enqueue, one loop takes
/// everything queued (up to <see cref="EvidenceWriterOptions.MaxBatchSize"/>), writes it in one
/// transaction and then releases every durable waiter of that batch. There is no timer: while a
/// batch commits the next one accumulates, so batches grow with load and stay at one record when idle.
/// When the store cannot be reached, records of <c>onStoreOutage: spool</c> systems go to the local
/// <see cref="EvidenceSpool"/> instead (fsynced, so their answers are released), the others fail as
/// before; every <see cref="EvidenceWriterOptions.ProbeInterval"/> the loop tries the store again and,
/// once it answers, replays the spool in order before anything newer.
/// </summary>
/// <remarks>Appended rows are owned by the writer until written; callers must not change them.</remarks>
public sealed class EvidenceWriter : IAsyncDisposable
{
    private readonly StoreLocation _location;
    private readonly ILogger _logger;
    private readonly EvidenceWriterOptions _options;
    private readonly Channel<Pending> _queue;
    private readonly Task _loop;

    private readonly TimeProvider _time;

    // Completed by durable appenders while the loop lingers over an asynchronous batch, to end the wait.
    private TaskCompletionSource? _durableArrived;

    // Touched only by the loop.
    private IEvidenceSink? _sink;
    private readonly EvidenceSpool? _spool;
    private bool _outage;
    private long _nextProbe;

    // Read by /readyz and metrics from other threads.
    private int _storeUnreachable;
    private long _spoolCount;
    private long _spooledTotal;
    private long _replayedTotal;

    private long _recordsWritten;
    private long _batches;
    private long _lastBatchSize;
    private long _failures;
    private long _asyncLost;
    private int _disposed;

    public EvidenceWriter(PilotageStore store, ILogger<EvidenceWriter> logger, EvidenceWriterOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _location = store.Location;
        _logger = logger;
        _options = options ?? new EvidenceWriterOptions();
        _time = time ?? TimeProvider.System;
        if (_options.SpoolPath is { } spoolPath)
        {
            try
            {
                _spool = EvidenceSpool.Open(spoolPath);
                _spoolCount = _spool.Count;
                if (_spool.Count > 0) _logger.LogWarning("The evidence spool {Path} holds {Count} records from an earlier outage; they are replayed into the store first", _spool.FilePath, _spool.Count);
                if (_spool.Dropped > 0) _logger.LogWarning("The evidence spool {Path} had {Dropped} torn or corrupt lines (appends that never completed); they were dropped", _spool.FilePath, _spool.Dropped);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Without a spool every system fails closed on an outage: safe, and said loudly.
                _logger.LogError(e, "The evidence spool {Path} cannot be opened; during a store outage every system fails closed", spoolPath);
            }
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.QueueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBatchSize, 1);
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Told each committed batch on the writer's loop (pause rules); must only enqueue, and must not keep the list.</summary>
    public Action<IReadOnlyList<InteractionRow>>? Committed { get; set; }

    /// <summary>Told the duration of each committed batch on the writer's loop (metrics); must not block.</summary>
    public Action<BatchCommitTiming>? CommitTimed { get; set; }

    public EvidenceWriterStats Stats => new(
        Interlocked.Read(ref _recordsWritten),
        Interlocked.Read(ref _batches),
        Interlocked.Read(ref _lastBatchSize),
        Interlocked.Read(ref _failures),
        Interlocked.Read(ref _asyncLost),
        _queue.Reader.Count,
        Interlocked.Read(ref _spooledTotal),
        Interlocked.Read(ref _replayedTotal));

    /// <summary>The writer's view of its store, for <c>/readyz</c>.</summary>
    public EvidenceStoreState StoreState => new(
        Volatile.Read(ref _storeUnreachable) == 0,
        _spool is not null,
        Interlocked.Read(ref _spoolCount),
        _spool?.FilePath);

    /// <summary>
    /// Queues <paramref name="record"/>. <see cref="EvidenceDurability.Durable"/>: completes once its
    /// transaction committed, faults with <see cref="EvidenceUnavailableException"/> if it did not.
    /// <see cref="EvidenceDurability.Async"/>: completes once queued. Either way a full queue makes the
    /// caller wait up to <see cref="EvidenceWriterOptions.EnqueueTimeout"/>, then fails.
    /// Cancelling stops the wait, not the write: a queued record is written regardless.
    /// </summary>
    public ValueTask AppendAsync(InteractionRow record, EvidenceDurability durability, CancellationToken ct) =>
        AppendAsync(record, durability, StoreOutage.FailClosed, ct);

    /// <inheritdoc cref="AppendAsync(InteractionRow, EvidenceDurability, CancellationToken)"/>
    /// <param name="onOutage">
    /// <see cref="StoreOutage.Spool"/>: if the store cannot be reached, the record goes to the local spool and
    /// the append succeeds once the spool is fsynced.
    /// </param>
    public ValueTask AppendAsync(InteractionRow record, EvidenceDurability durability, StoreOutage onOutage, CancellationToken ct) =>
        AppendAsync(record, durability, onOutage, null, ct);

    /// <inheritdoc cref="AppendAsync(InteractionRow, EvidenceDurability, StoreOutage, CancellationToken)"/>
    /// <param name="hold">An approval-mode answer to store with the record, atomically; such a record is never spooled.</param>
    public ValueTask AppendAsync(InteractionRow record, EvidenceDurability durability, StoreOutage onOutage, EvidenceHold? hold, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(record);
        // Continuations run asynchronously so the loop is not made to run a thousand request pipelines inline.
        var done = durability == EvidenceDurability.Durable
            ? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
            : null;
        var item = new Pending(record, done, onOutage == StoreOutage.Spool && hold is null, hold);
        if (_queue.Writer.TryWrite(item))
        {
            if (done is null) return ValueTask.CompletedTask;
            Volatile.Read(ref _durableArrived)?.TrySetResult();
            return WaitAsync(done.Task, ct);
        }
        return EnqueueSlowAsync(item, ct);
    }

    private async ValueTask EnqueueSlowAsync(Pending item, CancellationToken ct)
    {
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(_options.EnqueueTimeout);
            try
            {
                await _queue.Writer.WriteAsync(item, timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new EvidenceUnavailableException(
                    $"evidence queue full: {_options.QueueCapacity} records waiting for {_options.EnqueueTimeout.TotalSeconds:0.###} s; the store is too slow or unavailable");
            }
            catch (ChannelClosedException e)
            {
                throw new EvidenceUnavailableException("evidence writer is stopped (the server is shutting down)", e);
            }
        }
        if (item.Done is not null)
        {
            Volatile.Read(ref _durableArrived)?.TrySetResult();
            await WaitAsync(item.Done.Task, ct);
        }
    }

    private static ValueTask WaitAsync(Task committed, CancellationToken ct) =>
        new(ct.CanBeCanceled ? committed.WaitAsync(ct) : committed);

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var rows = new List<InteractionRow>(_options.MaxBatchSize);
        var waiters = new List<Pending>(_options.MaxBatchSize);
        if (SpoolPending) await TryRecoverAsync();
        // Completing the channel (dispose) ends this loop only once the queue is empty: a drain.
        while (true)
        {
            bool more;
            if (_outage || SpoolPending)
            {
                // Nothing may arrive for a while: probe the store on a timer too, so the spool drains when idle.
                using var probe = new CancellationTokenSource(_options.ProbeInterval, _time);
                try
                {
                    more = await reader.WaitToReadAsync(probe.Token);
                }
                catch (OperationCanceledException)
                {
                    await TryRecoverAsync();
                    continue;
                }
            }
            else
            {
                more = await reader.WaitToReadAsync();
            }
            if (!more) break;
            var durable = Drain(reader, rows, waiters);
            if (!durable && _options.AsyncLinger > TimeSpan.Zero && rows.Count < _options.MaxBatchSize && !_outage && !SpoolPending)
            {
                durable = await LingerAsync(reader, rows, waiters);
            }
            await WriteBatchAsync(rows, waiters, flush: durable);
            rows.Clear();
            waiters.Clear();
        }
        if (SpoolPending) await TryRecoverAsync();
        await CloseSinkAsync();
        _spool?.Dispose();
    }

    private bool SpoolPending => _spool is { Count: > 0 };

    /// <summary>Takes what is queued, up to a batch; true when a record in the batch has a waiter.</summary>
    private bool Drain(ChannelReader<Pending> reader, List<InteractionRow> rows, List<Pending> waiters)
    {
        var durable = false;
        while (rows.Count < _options.MaxBatchSize && reader.TryRead(out var item))
        {
            rows.Add(item.Row);
            waiters.Add(item);
            durable |= item.Done is not null;
        }
        return durable;
    }

    /// <summary>
    /// An asynchronous batch waits up to <see cref="EvidenceWriterOptions.AsyncLinger"/> for more records, unless
    /// the batch fills or a durable record arrives (its appender completes <see cref="_durableArrived"/>).
    /// </summary>
    private async Task<bool> LingerAsync(ChannelReader<Pending> reader, List<InteractionRow> rows, List<Pending> waiters)
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _durableArrived, arrived);
        try
        {
            // A durable record queued before the signal was installed is caught by this drain; any later one signals.
            if (Drain(reader, rows, waiters)) return true;
            if (rows.Count >= _options.MaxBatchSize) return false;
            // The system clock, not the injected one: this is a throughput measure, and a test's frozen clock
            // must not hold asynchronous records back.
            await Task.WhenAny(arrived.Task, Task.Delay(_options.AsyncLinger));
            return Drain(reader, rows, waiters);
        }
        finally
        {
            Volatile.Write(ref _durableArrived, null);
        }
    }

    /// <param name="flush">False when no record of the batch has a waiter: the store may then commit without waiting for the disk.</param>
    private async Task WriteBatchAsync(List<InteractionRow> rows, List<Pending> waiters, bool flush)
    {
        if (_outage || SpoolPending)
        {
            if (_time.GetTimestamp() >= _nextProbe) await TryRecoverAsync();
            // Still out, or the spool could not be replayed yet: newer records must not overtake it.
            if (_outage || SpoolPending)
            {
                Divert(waiters, null);
                return;
            }
        }

        Exception? error = null;
        // A connection that sat open between batches may have died meanwhile (server restart, terminated
        // backend): retry once on a fresh one. A fresh connection failing means the store is unavailable.
        // The retry could duplicate a batch whose commit succeeded but whose acknowledgement was lost;
        // the primary key then refuses it and the batch is reported failed: safe side, no answer released.
        var started = 0L;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var reused = _sink is not null;
            // The system clock, not the injected one: a measure of the store, which a test's frozen clock must not hide.
            started = Stopwatch.GetTimestamp();
            try
            {
                _sink ??= await EvidenceSink.OpenAsync(_location, CancellationToken.None);
                await _sink.WriteAsync(rows, CancellationToken.None, holds: HoldsOf(waiters), flush: flush);
                error = null;
                break;
            }
#pragma warning disable CA1031 // Any failure of the store must reach the waiters, never kill the loop.
            catch (Exception e)
#pragma warning restore CA1031
            {
                error = e;
                await CloseSinkAsync();
                if (!reused) break;
            }
        }

        if (error is null)
        {
            Interlocked.Add(ref _recordsWritten, rows.Count);
            Interlocked.Increment(ref _batches);
            Interlocked.Exchange(ref _lastBatchSize, rows.Count);
            var took = Stopwatch.GetElapsedTime(started);
            foreach (var waiter in waiters) waiter.Done?.TrySetResult();
            Tell(CommitTimed, new BatchCommitTiming(rows.Count, flush, took));
            Tell(Committed, rows);
            return;
        }

        if (_spool is not null && IsUnreachable(error))
        {
            EnterOutage(error);
            Divert(waiters, error);
            return;
        }
        Fail(waiters, error);
    }

    /// <summary>
    /// Tells a listener (<see cref="Committed"/>, <see cref="CommitTimed"/>) about a commit. One that throws is logged: it
    /// must not end the loop every durable answer waits on, nor make a replayed spool look unreplayed.
    /// </summary>
    private void Tell<T>(Action<T>? listener, T value)
    {
        if (listener is null) return;
        try
        {
            listener(value);
        }
#pragma warning disable CA1031 // See the summary: no listener's failure may stop the writer.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _logger.LogWarning(e, "A listener of committed evidence ({Listener}) failed; the evidence writer goes on", listener.Method.Name);
        }
    }

    private static Dictionary<string, EvidenceHold>? HoldsOf(List<Pending> waiters)
    {
        Dictionary<string, EvidenceHold>? holds = null;
        foreach (var waiter in waiters)
        {
            if (waiter.Hold is { } hold) (holds ??= new(StringComparer.Ordinal))[waiter.Row.Id] = hold;
        }
        return holds;
    }

    /// <summary>During an outage: spool what may be spooled (and release it), fail the rest.</summary>
    private void Divert(List<Pending> waiters, Exception? error)
    {
        var spooled = waiters.Where(w => w.Spool).ToList();
        var refused = waiters.Where(w => !w.Spool).ToList();
        if (spooled.Count > 0)
        {
            try
            {
                _spool!.Append(spooled.Select(w => w.Row).ToList());
                Interlocked.Exchange(ref _spoolCount, _spool.Count);
                Interlocked.Add(ref _spooledTotal, spooled.Count);
                foreach (var waiter in spooled) waiter.Done?.TrySetResult();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogError(e, "The evidence spool {Path} could not be written", _spool!.FilePath);
                refused = waiters;
                error = e;
            }
        }
        if (refused.Count > 0)
        {
            Fail(refused, error ?? new EvidenceUnavailableException($"the evidence store ({_location.Describe()}) is unreachable and this system fails closed (onStoreOutage: fail_closed)"));
        }
    }

    private void Fail(List<Pending> waiters, Exception error)
    {
        Interlocked.Increment(ref _failures);
        var lost = 0;
        foreach (var pending in waiters)
        {
            var waiter = pending.Done;
            if (waiter is null)
            {
                lost++;
                continue;
            }
            // One exception per waiter: a shared instance would have its stack trace rewritten by every awaiter.
            waiter.TrySetException(new EvidenceUnavailableException(
                $"evidence store unavailable: the interaction record could not be committed ({error.Message})", error));
        }
        // Async records of a failed batch are lost; spooling them to disk for a later replay is a separate issue.
        if (lost > 0)
        {
            Interlocked.Add(ref _asyncLost, lost);
            _logger.LogError(error, "Evidence store unavailable: {Lost} asynchronously appended interaction records were lost ({Store})", lost, _location.Describe());
        }
        else
        {
            _logger.LogError(error, "Evidence store unavailable: a batch of {Count} interaction records could not be committed ({Store})", waiters.Count, _location.Describe());
        }
    }

    private void EnterOutage(Exception error)
    {
        if (!_outage)
        {
            _logger.LogError(error, "Evidence store unreachable ({Store}): spooling the records of onStoreOutage: spool systems to {Path}; the others get 503", _location.Describe(), _spool!.FilePath);
        }
        _outage = true;
        Volatile.Write(ref _storeUnreachable, 1);
        _nextProbe = _time.GetTimestamp() + (long)(_options.ProbeInterval.TotalSeconds * _time.TimestampFrequency);
    }

    /// <summary>
    /// Tries the store; if it answers, replays the spool in order, empties it only after the commit, and
    /// ends the outage. Replayed rows skip ids already stored, so a crash between the commit and the
    /// truncation replays nothing twice.
    /// </summary>
    private async Task TryRecoverAsync()
    {
        try
        {
            _sink ??= await EvidenceSink.OpenAsync(_location, CancellationToken.None);
            if (SpoolPending)
            {
                var records = _spool!.ReadAll();
                var replayed = 0;
                foreach (var chunk in records.Chunk(_options.MaxBatchSize))
                {
                    var written = await _sink.WriteAsync(chunk, CancellationToken.None, skipExisting: true);
                    replayed += written.Count;
                    if (written.Count > 0) Tell(Committed, written);
                }
                _spool.Clear();
                Interlocked.Exchange(ref _spoolCount, 0);
                Interlocked.Add(ref _replayedTotal, replayed);
                Interlocked.Add(ref _recordsWritten, replayed);
                _logger.LogWarning("Evidence store reachable again ({Store}): replayed {Replayed} of {Spooled} spooled records ({Skipped} were already stored)", _location.Describe(), replayed, records.Count, records.Count - replayed);
            }
            else if (_outage)
            {
                _logger.LogWarning("Evidence store reachable again ({Store})", _location.Describe());
            }
            _outage = false;
            Volatile.Write(ref _storeUnreachable, 0);
        }
#pragma warning disable CA1031 // Any failure means "still out": try again at the next probe.
        catch (Exception e)
#pragma warning restore CA1031
        {
            await CloseSinkAsync();
            EnterOutage(e);
            _logger.LogDebug(e, "Evidence store still unreachable");
        }
    }

    /// <summary>A failure of the connection or the disk under the store, as opposed to a record the store refuses.</summary>
    internal static bool IsUnreachable(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg:
                    // 08: connection exceptions; 57P0x: the server is shutting down or starting; 53: out of resources.
                    return pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("57P", StringComparison.Ordinal) || pg.SqlState.StartsWith("53", StringComparison.Ordinal);
                case NpgsqlException:
                case SocketException:
                case TimeoutException:
                case IOException:
                    return true;
                case SqliteException sqlite:
                    // BUSY, LOCKED, IOERR, FULL, CANTOPEN: the file, not the record.
                    return sqlite.SqliteErrorCode is 5 or 6 or 10 or 13 or 14;
                case DbException:
                    return false;
            }
        }
        return false;
    }

    private async Task CloseSinkAsync()
    {
        if (_sink is null) return;
        var sink = _sink;
        _sink = null;
        try
        {
            await sink.DisposeAsync();
        }
#pragma warning disable CA1031 // Closing an already broken connection may throw; it is being discarded anyway.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _logger.LogDebug(e, "Closing the evidence connection failed");
        }
    }

    /// <summary>Stops accepting records, writes everything already queued, then closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _queue.Writer.TryComplete();
        }
        await _loop;
    }

    private readonly record struct Pending(InteractionRow Row, TaskCompletionSource? Done, bool Spool, EvidenceHold? Hold);
}

/// <summary>Ties the writer to the host's lifetime: stopping the host drains the queue.</summary>
public sealed class EvidenceWriterHostedService(EvidenceWriter writer) : IHostedService
{
    // Resolving the writer here is what starts its loop with the host.
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken) => await writer.DisposeAsync();
}

public static class EvidenceServiceCollectionExtensions
{
    /// <summary>Registers the <see cref="EvidenceWriter"/> singleton and its hosted service.</summary>
    public static IServiceCollection AddEvidenceWriter(this IServiceCollection services, EvidenceWriterOptions? options = null)
    {
        if (options is not null)
        {
            services.AddSingleton(options);
        }
        else
        {
            // The spool: EvidenceOptions.SpoolDirectory, else PILOTAGE_SPOOL_DIR, else beside the store (EvidenceSpool.DefaultPath).
            services.AddSingleton(sp => new EvidenceWriterOptions
            {
                SpoolPath = EvidenceSpool.DefaultPath(
                    sp.GetRequiredService<StoreLocation>(),
                    sp.GetService<EvidenceOptions>()?.SpoolDirectory ?? Environment.GetEnvironmentVariable(EvidenceSpool.DirectoryVariable)),
            });
        }
        services.AddSingleton<EvidenceWriter>();
        services.AddHostedService<EvidenceWriterHostedService>();
        return services;
    }
}
