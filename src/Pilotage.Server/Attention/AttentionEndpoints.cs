using Pilotage.Core.Access;
using Pilotage.Server.Access;

namespace Pilotage.Server.Attention;

/// <summary>The attention items of the dashboard's portfolio and system pages, for the CLI (<c>pilotage status</c>) and other tools.</summary>
public static class AttentionEndpoints
{
    public static void MapAttention(this IEndpointRouteBuilder api)
    {
        api.MapGet("/attention", (HttpContext http, AttentionQueries attention, CancellationToken ct) => attention.ListAsync(Actor.From(http.User), ct))
            .RequirePermission(Permission.SystemsRead).WithTags("Systems")
            .WithSummary("What needs attention across all systems (pauses, pause rules, review backlog, upstream errors, refusals, stale or expired pilots), with figures and links");
        api.MapGet("/systems/{slug}/attention", (string slug, AttentionService attention, CancellationToken ct) => attention.SystemAsync(slug, ct))
            .RequirePermission(Permission.SystemsRead).WithTags("Systems")
            .WithSummary("What needs attention about one system, as on its dashboard page");
    }
}

/// <summary>The attention items a person may hear about.</summary>
public sealed class AttentionQueries(AttentionService attention, SystemScope scope)
{
    /// <summary>Every item of the systems the person may read (read scoping: each hears only about those).</summary>
    public async Task<IReadOnlyList<AttentionItem>> ListAsync(Actor actor, CancellationToken ct)
    {
        var readable = scope.Restriction(actor.Person);
        return (await attention.PortfolioAsync(readable, ct)).Values.SelectMany(items => items).ToList();
    }
}
