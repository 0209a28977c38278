using Pilotage.Core.Access;
using Pilotage.Server.Access;

namespace Pilotage.Server.Evidence;

public static class MetricsEndpoints
{
    public static void MapEvidenceMetrics(this IEndpointRouteBuilder api)
    {
        api.MapGet("/systems/{slug}/metrics", (string slug, string? phase, int? stage, int? version, DateTimeOffset? from, DateTimeOffset? to, SystemMetrics metrics, CancellationToken ct) =>
                metrics.ComputeAsync(slug, new MetricFilter(phase, stage, version, from, to), ct))
            .RequirePermission(Permission.SystemsRead)
            .WithTags("Evidence")
            .WithSummary("Every catalogue figure as {value, n, low, high}, from the roll-ups (filter by phase, stage, config version, period)");
    }
}
