using Pilotage.Server.Evidence;
using Pilotage.Server.Reviews;

namespace Pilotage.Server.PauseRules;

/// <summary>Connects the evidence writer and the review service to the feed, and seeds the engine from the store.</summary>
public static class PauseRuleWiring
{
    /// <summary>At start-up, after migrations and the first policy snapshot, before the server listens.</summary>
    public static async Task StartAsync(IServiceProvider services, CancellationToken ct)
    {
        var feed = services.GetRequiredService<PauseRuleFeed>();
        services.GetRequiredService<EvidenceWriter>().Committed = feed.OnInteractionsCommitted;
        services.GetRequiredService<ReviewService>().ReviewCommitted = feed.OnReviewCommitted;
        await services.GetRequiredService<PauseRuleEngine>().SeedAsync(ct);
    }
}
