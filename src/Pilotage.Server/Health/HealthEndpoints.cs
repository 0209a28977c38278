using Pilotage.Server.Storage;

namespace Pilotage.Server.Health;

public sealed record ReadinessView(string Status, string Store, string? Error);

public static class HealthEndpoints
{
    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        // Liveness: the process answers. Readiness: it can also reach its store.
        app.MapGet("/healthz", () => Results.Text("ok\n")).WithTags("Health").AllowAnonymous();
        app.MapGet("/readyz", async (PilotageStore store, CancellationToken ct) =>
        {
            try
            {
                await using var db = store.CreateDbContext();
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                var ok = await db.Database.CanConnectAsync(timeout.Token);
                return ok
                    ? Results.Ok(new ReadinessView("ready", store.Location.Describe(), null))
                    : Results.Json(new ReadinessView("unavailable", store.Location.Describe(), "the store cannot be reached"), statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                return Results.Json(new ReadinessView("unavailable", store.Location.Describe(), e.GetType().Name), statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }).WithTags("Health").AllowAnonymous();
    }
}
