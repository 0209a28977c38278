using System.Text.Json;
using Pilotage.Core.Gateway;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Identity;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Protocols;

/// <summary><c>GET /v1/models</c>: the systems the caller's key may use now, by name, in the OpenAI list shape.</summary>
internal sealed class ModelsEndpoint(PolicyCache policy, AccessTokens tokens, TimeProvider time, GatewayMetrics metrics, ILogger<ModelsEndpoint> logger)
{
    public async Task ListAsync(HttpContext http)
    {
        try
        {
            var now = time.GetUtcNow();
            var (key, snapshot) = await Authenticator.AuthenticateAsync(http.Request, policy, tokens, now);
            if (key.Refusal is { } refusal)
            {
                metrics.Refused(refusal.Error.Code, null);
                await OpenAiErrors.WriteAsync(http, refusal.Error, null, "none");
                return;
            }
            var user = key.Value!.User;
            var usable = snapshot.Systems.Values
                .Where(s => ServingPolicy.Decide(s.State, Admission.CallerOf(snapshot, user, s), now).Allowed)
                .OrderBy(s => s.State.Slug, StringComparer.Ordinal)
                .Select(s => new ModelEntry(s.State.Slug, "model", 0, "pilotage"))
                .ToList();
            http.Response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(http.Response.Body, new ModelList("list", usable), GatewayJsonContext.Default.ModelList, http.RequestAborted);
        }
        catch (Exception e) when (!(e is OperationCanceledException && http.RequestAborted.IsCancellationRequested))
        {
            logger.LogError(e, "Unexpected error in the gateway on {Path}", http.Request.Path.Value);
            if (http.Response.HasStarted)
            {
                http.Abort();
                return;
            }
            http.Response.Clear();
            await OpenAiErrors.WriteAsync(http, new GatewayRefusal(500, "internal_error", "the gateway failed to list the models; it has been logged. Retry shortly."), null, "none");
        }
        catch (OperationCanceledException)
        {
            // the client went away
        }
    }
}
