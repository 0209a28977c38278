using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Evidence;

/// <summary>
/// The single writer of interaction evidence, with group commit: appenders enqueue, one loop takes
/// everything queued (up to <see cref="EvidenceWriterOptions.MaxBatchSize"/>), writes it in one
/// transaction and then releases every durable waiter of that batch. There is no timer: while a
/// batch commits the next one accumulates, so batches grow with load and stay at one record when idle.
/// </summary>
/// <remarks>Appended rows are owned by the writer until written; callers must not change them.</remarks>
public sealed class EvidenceWriter : IAsyncDisposable
{
    private readonly StoreLocation _location;
    private readonly ILogger _logger;
    private readonly EvidenceWriterOptions _options;
    private readonly Channel<Pending> _queue;
    private readonly Task _loop;

    // Touched only by the loop.
    private IEvidenceSink? _sink;

    private long _recordsWritten;
    private long _batches;
    private long _lastBatchSize;
    private long _failures;
    private long _asyncLost;
    private int _disposed;

    public EvidenceWriter(PilotageStore store, ILogger<EvidenceWriter> logger, EvidenceWriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _location = store.Location;
        _logger = logger;
        _options = options ?? new EvidenceWriterOptions();
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

    public EvidenceWriterStats Stats => new(
        Interlocked.Read(ref _recordsWritten),
        Interlocked.Read(ref _batches),
        Interlocked.Read(ref _lastBatchSize),
        Interlocked.Read(ref _failures),
        Interlocked.Read(ref _asyncLost),
        _queue.Reader.Count);

    /// <summary>
    /// Queues <paramref name="record"/>. <see cref="EvidenceDurability.Durable"/>: completes once its
    /// transaction committed, faults with <see cref="EvidenceUnavailableException"/> if it did not.
    /// <see cref="EvidenceDurability.Async"/>: completes once queued. Either way a full queue makes the
    /// caller wait up to <see cref="EvidenceWriterOptions.EnqueueTimeout"/>, then fails.
    /// Cancelling stops the wait, not the write: a queued record is written regardless.
    /// </summary>
    public ValueTask AppendAsync(InteractionRow record, EvidenceDurability durability, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(record);
        // Continuations run asynchronously so the loop is not made to run a thousand request pipelines inline.
        var done = durability == EvidenceDurability.Durable
            ? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
            : null;
        var item = new Pending(record, done);
        if (_queue.Writer.TryWrite(item))
        {
            return done is null ? ValueTask.CompletedTask : WaitAsync(done.Task, ct);
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
            await WaitAsync(item.Done.Task, ct);
        }
    }

    private static ValueTask WaitAsync(Task committed, CancellationToken ct) =>
        new(ct.CanBeCanceled ? committed.WaitAsync(ct) : committed);

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var rows = new List<InteractionRow>(_options.MaxBatchSize);
        var waiters = new List<TaskCompletionSource?>(_options.MaxBatchSize);
        // Completing the channel (dispose) ends this loop only once the queue is empty: a drain.
        while (await reader.WaitToReadAsync())
        {
            while (rows.Count < _options.MaxBatchSize && reader.TryRead(out var item))
            {
                rows.Add(item.Row);
                waiters.Add(item.Done);
            }
            await WriteBatchAsync(rows, waiters);
            rows.Clear();
            waiters.Clear();
        }
        await CloseSinkAsync();
    }

    private async Task WriteBatchAsync(List<InteractionRow> rows, List<TaskCompletionSource?> waiters)
    {
        Exception? error = null;
        // A connection that sat open between batches may have died meanwhile (server restart, terminated
        // backend): retry once on a fresh one. A fresh connection failing means the store is unavailable.
        // The retry could duplicate a batch whose commit succeeded but whose acknowledgement was lost;
        // the primary key then refuses it and the batch is reported failed: safe side, no answer released.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var reused = _sink is not null;
            try
            {
                _sink ??= await EvidenceSink.OpenAsync(_location, CancellationToken.None);
                await _sink.WriteAsync(rows, CancellationToken.None);
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
            foreach (var waiter in waiters) waiter?.TrySetResult();
            Committed?.Invoke(rows);
            return;
        }

        Interlocked.Increment(ref _failures);
        var lost = 0;
        foreach (var waiter in waiters)
        {
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
            _logger.LogError(error, "Evidence store unavailable: a batch of {Count} interaction records could not be committed ({Store})", rows.Count, _location.Describe());
        }
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

    private readonly record struct Pending(InteractionRow Row, TaskCompletionSource? Done);
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
        services.AddSingleton(options ?? new EvidenceWriterOptions());
        services.AddSingleton<EvidenceWriter>();
        services.AddHostedService<EvidenceWriterHostedService>();
        return services;
    }
}
