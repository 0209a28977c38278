using System.Threading.Channels;
using Pilotage.Core.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Server.PauseRules;

/// <summary>
/// Where committed evidence is handed to the pause-rule engine. Every method only enqueues (no I/O, no
/// lock): the evidence writer's loop, review requests and control-plane commands never wait for a
/// rule to be evaluated. The engine's background loop is the single reader.
/// </summary>
public sealed class PauseRuleFeed : ICommitObserver
{
    private readonly Channel<FeedItem> _queue = Channel.CreateUnbounded<FeedItem>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    internal ChannelReader<FeedItem> Reader => _queue.Reader;

    /// <summary>A batch of interaction records has committed (called by the evidence writer's loop).</summary>
    public void OnInteractionsCommitted(IReadOnlyList<InteractionRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        List<InteractionSample>? samples = null;
        foreach (var row in rows)
        {
            // Only real AI traffic: not manual work, not evaluation runs.
            if (row.Endpoint == InteractionEndpointNames.Manual || row.EvalRun is not null) continue;
            (samples ??= new(rows.Count)).Add(new InteractionSample(row.System, row.CreatedAt, row.Outcome, row.RefusalCode, row.TokensIn, row.TokensOut, row.Cost, row.TotalMs));
        }
        if (samples is not null) _queue.Writer.TryWrite(new FeedItem(samples, null, null));
    }

    /// <summary>A review of <paramref name="interactionId"/> has committed with this status (recorded, replaced or unchanged).</summary>
    public void OnReviewCommitted(string interactionId, string status)
    {
        if (status == ReceiptStatuses.Unchanged) return;
        _queue.Writer.TryWrite(new FeedItem(null, interactionId, status));
    }

    /// <summary>A control-plane command committed: specs, lifecycles or incidents may have changed.</summary>
    public Task OnCommittedAsync(CancellationToken ct)
    {
        _queue.Writer.TryWrite(FeedItem.Changed);
        return Task.CompletedTask;
    }

    internal void Complete() => _queue.Writer.TryComplete();
}

internal readonly record struct InteractionSample(string System, DateTimeOffset At, string Outcome, string? RefusalCode, int TokensIn, int TokensOut, decimal Cost, double TotalMs);

internal sealed record FeedItem(List<InteractionSample>? Interactions, string? ReviewId, string? ReviewStatus)
{
    public static FeedItem Changed { get; } = new(null, null, null);
}
