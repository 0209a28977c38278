using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Audit.Checkpoints;
using Pilotage.Core.Audit.Merkle;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Audit;

/// <summary>A signed checkpoint as the API hands it out.</summary>
public sealed record CheckpointView(long TreeSize, string RootHash, string Checkpoint, DateTimeOffset CreatedAt);

/// <summary>
/// Signs checkpoints of the audit log: every N entries or T seconds in the background, and on request. Each is
/// kept in the store and appended to the witness (a file outside the store, and a URL when configured).
/// Commands only wake it (<see cref="Storage.ICommitObserver"/>): nothing on a request path waits for a signature.
/// </summary>
public sealed class AuditCheckpointer(
    PilotageStore store, ControlPlane control, AuditLogKey key, AuditLogOptions options, TimeProvider time,
    IHttpClientFactory http, AuditCheckpointSignal signal, ILogger<AuditCheckpointer> logger) : BackgroundService
{
    public const string WitnessClient = "pilotage-audit-witness";

    private readonly Channel<bool> _wake = signal.Wake;
    private readonly Channel<string> _toPost = Channel.CreateBounded<string>(new BoundedChannelOptions(1_000) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly SemaphoreSlim _signing = new(1, 1);

    /// <summary>A signed checkpoint covering every entry in the store now (the latest one, when nothing was added since).</summary>
    public async Task<CheckpointView> CheckpointNowAsync(CancellationToken cancellationToken)
    {
        await _signing.WaitAsync(cancellationToken);
        try
        {
            await using var db = store.CreateDbContext();
            var head = await db.AuditHead.AsNoTracking().SingleAsync(h => h.Id == 1, cancellationToken);
            if (head.TreeSize < head.Sequence)
            {
                await AuditTree.CatchUpAsync(control, logger, cancellationToken);
                head = await db.AuditHead.AsNoTracking().SingleAsync(h => h.Id == 1, cancellationToken);
            }
            var root = MerkleFrontier.FromBytes(head.TreeSize, head.TreeFrontier).Root();
            var latest = await LatestRowAsync(db, cancellationToken);
            if (latest is not null && latest.TreeSize == head.TreeSize && latest.RootHash.AsSpan().SequenceEqual(root)
                && OpenedCheckpoint.Open(latest.Note, key.Verifier).Outcome == NoteOutcome.Verified)
            {
                return ToView(latest);
            }
            var note = key.Signer.Sign(new AuditCheckpoint(key.Signer.Name, head.TreeSize, root).Body());
            var row = new AuditCheckpointRow { TreeSize = head.TreeSize, RootHash = root, Note = note, CreatedAt = time.GetUtcNow() };
            db.AuditCheckpoints.Add(row);
            await db.SaveChangesAsync(cancellationToken);
            if (key.WitnessPath.Length > 0) AuditWitness.Append(key.WitnessPath, note);
            if (options.WitnessUrl is not null) _toPost.Writer.TryWrite(note);
            return ToView(row);
        }
        finally
        {
            _signing.Release();
        }
    }

    /// <summary>The latest checkpoint the store holds, if any.</summary>
    public async Task<CheckpointView?> LatestAsync(CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var row = await LatestRowAsync(db, cancellationToken);
        return row is null ? null : ToView(row);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var posting = options.WitnessUrl is null ? Task.CompletedTask : PostLoopAsync(options.WitnessUrl, stoppingToken);
        long covered = -1;
        DateTimeOffset? pendingSince = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using (var db = store.CreateDbContext())
                {
                    var size = await db.AuditHead.AsNoTracking().Where(h => h.Id == 1).Select(h => h.Sequence).SingleAsync(stoppingToken);
                    if (covered < 0) covered = (await LatestRowAsync(db, stoppingToken))?.TreeSize ?? 0;
                    if (size > covered)
                    {
                        pendingSince ??= time.GetUtcNow();
                        if (size - covered >= options.CheckpointEveryEntries || time.GetUtcNow() - pendingSince >= options.CheckpointEvery)
                        {
                            covered = (await CheckpointNowAsync(stoppingToken)).TreeSize;
                            pendingSince = null;
                        }
                    }
                }
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                tick.CancelAfter(pendingSince is null ? options.CheckpointEvery : Max(options.CheckpointEvery - (time.GetUtcNow() - pendingSince.Value), TimeSpan.FromMilliseconds(50)));
                try
                {
                    await _wake.Reader.ReadAsync(tick.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // The period ran out: look again.
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                logger.LogWarning(e, "Signing an audit checkpoint failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
        await posting;
    }

    private async Task PostLoopAsync(Uri url, CancellationToken stoppingToken)
    {
        var client = http.CreateClient(WitnessClient);
        try
        {
            await foreach (var note in _toPost.Reader.ReadAllAsync(stoppingToken))
            {
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        using var content = new StringContent(note, System.Text.Encoding.UTF8, "text/plain");
                        using var response = await client.PostAsync(url, content, stoppingToken);
                        response.EnsureSuccessStatusCode();
                        break;
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
                    {
                        if (attempt >= 5)
                        {
                            logger.LogWarning("Could not post an audit checkpoint to the witness URL {Host} after {Attempts} attempts: {Error}; it is in the store and the witness file", url.Host, attempt, e.Message);
                            break;
                        }
                        await Task.Delay(TimeSpan.FromSeconds(attempt * 2), time, stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static Task<AuditCheckpointRow?> LatestRowAsync(PilotageDbContext db, CancellationToken ct) =>
        db.AuditCheckpoints.AsNoTracking().OrderByDescending(c => c.TreeSize).ThenByDescending(c => c.Id).FirstOrDefaultAsync(ct);

    private static CheckpointView ToView(AuditCheckpointRow row) => new(row.TreeSize, Convert.ToHexStringLower(row.RootHash), row.Note, row.CreatedAt);

    public override void Dispose()
    {
        _signing.Dispose();
        base.Dispose();
    }
}

/// <summary>
/// Wakes the checkpointer after each committed command. Its own type, because the control plane holds its
/// observers and the checkpointer holds the control plane (for the tree's catch-up).
/// </summary>
public sealed class AuditCheckpointSignal : Storage.ICommitObserver
{
    internal Channel<bool> Wake { get; } = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public Task OnCommittedAsync(CancellationToken ct)
    {
        Wake.Writer.TryWrite(true);
        return Task.CompletedTask;
    }
}

/// <summary>The log's signing key and where its witness file is, resolved once at start.</summary>
public sealed class AuditLogKey(NoteSigner signer, string keyPath, string witnessPath) : IDisposable
{
    public NoteSigner Signer { get; } = signer;
    public NoteVerifier Verifier => Signer.Verifier;
    public string KeyPath { get; } = keyPath;
    /// <summary>Empty when no witness file is kept.</summary>
    public string WitnessPath { get; } = witnessPath;

    public void Dispose() => Signer.Dispose();
}
