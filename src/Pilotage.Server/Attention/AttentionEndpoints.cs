using Pilotage.Core.Access;
using Pilotage.Server.Access;

namespace Pilotage.Server.Attention;

/// <summary>The attention items of the dashboard's portfolio and system pages, for the CLI (<c>pilotage status</c>) and other tools.</summary>
public static class AttentionEndpoints
{
    public static void MapAttention(this IEndpointRouteBuilder api)
    {
        api.MapGet("/attention", async (HttpContext http, AttentionService attention, SystemScope scope, CancellationToken ct) =>
            {
                // Read scoping: each person hears only about the systems they may read.
                var readable = scope.Restriction(Actor.From(http.User).Person);
                return (IReadOnlyList<AttentionItem>)(await attention.PortfolioAsync(readable, ct)).Values.SelectMany(items => items).ToList();
            })
            .RequirePermission(Permission.SystemsRead).WithTags("Systems")
            .WithSummary("What needs attention across all systems (pauses, pause rules, review backlog, upstream errors, refusals, stale or expired pilots), with figures and links");
        api.MapGet("/systems/{slug}/attention", (string slug, AttentionService attention, CancellationToken ct) => attention.SystemAsync(slug, ct))
            .RequirePermission(Permission.SystemsRead).WithTags("Systems")
            .WithSummary("What needs attention about one system, as on its dashboard page");
    }
}
