using Pilotage.Core.Specs;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Health;

/// <param name="Status"><c>ready</c>, <c>degraded</c> (store unreachable, spooling; or spool still replaying) or <c>unavailable</c>.</param>
/// <param name="Store">Which store (no password).</param>
/// <param name="StoreState"><c>reachable</c> or <c>unreachable</c>.</param>
/// <param name="Spooled">Interaction records in the local spool waiting for the store.</param>
public sealed record ReadinessView(string Status, string Store, string? Error, string StoreState = "reachable", long Spooled = 0);

public static class HealthEndpoints
{
    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        // Liveness: the process answers. Readiness: it can also reach its store — or, while it cannot,
        // it still serves the systems that spool (200 "degraded"): a load balancer must keep sending them.
        app.MapGet("/healthz", () => Results.Text("ok\n")).WithTags("Health").AllowAnonymous();
        app.MapGet("/readyz", async (PilotageStore store, EvidenceWriter writer, PolicyCache policy, StartupState startup, CancellationToken ct) =>
        {
            var where = store.Location.Describe();
            var spool = writer.StoreState;
            string? error = null;
            try
            {
                await using var db = store.CreateDbContext();
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                if (!await db.Database.CanConnectAsync(timeout.Token)) error = "the store cannot be reached";
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                error = e.GetType().Name;
            }
            if (error is null && !startup.Complete)
            {
                return Results.Json(new ReadinessView("starting", where, "start-up has not finished (bootstrap admin)"), statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            if (error is null)
            {
                // Reachable: "degraded" only while the writer has not yet replayed what it spooled.
                return spool.Spooled > 0 || !spool.Reachable
                    ? Results.Ok(new ReadinessView("degraded", where, null, "reachable", spool.Spooled))
                    : Results.Ok(new ReadinessView("ready", where, null, "reachable", spool.Spooled));
            }
            var spooling = spool.SpoolEnabled && policy.Current.Systems.Values.Any(s => StoreOutagePolicy.For(s.State.Spec) == StoreOutage.Spool);
            return spooling
                ? Results.Ok(new ReadinessView("degraded", where, error, "unreachable", spool.Spooled))
                : Results.Json(new ReadinessView("unavailable", where, error, "unreachable", spool.Spooled), statusCode: StatusCodes.Status503ServiceUnavailable);
        }).WithTags("Health").AllowAnonymous();
    }
}
