using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Evidence;
using Pilotage.Core.Gateway;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Gateway.Protocols.Anthropic;
using Pilotage.Server.Gateway.Protocols.Responses;
using Pilotage.Server.Gateway.Protocols;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Gateway;

/// <summary>The OpenAI-compatible surface, on the same server as the control API.</summary>
public static class GatewayEndpoints
{
    public static void MapGateway(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("Gateway").ExcludeFromDescription();
        // The three calls every client makes are plain request delegates on the singleton gateway, and end the
        // pipeline as soon as routing has matched them (ShortCircuit): the middleware after routing (authentication,
        // the exception handler, status code pages, authorization) is for the control API and the dashboard. The
        // gateway checks its own keys, writes every answer and refusal itself, and turns anything it did not expect
        // into a 500 in the client's error shape (GatewayPipeline.UnexpectedAsync). A delegate with a service parameter
        // would also open a DI scope per request to resolve a singleton.
        var services = app.ServiceProvider;
        var pipeline = new Lazy<GatewayPipeline>(services.GetRequiredService<GatewayPipeline>);
        var chat = new ChatCompletionsProtocol();
        var embeddings = new EmbeddingsProtocol();
        v1.MapPost("/chat/completions", http => pipeline.Value.HandleAsync(http, chat)).ShortCircuit();
        v1.MapPost("/embeddings", http => pipeline.Value.HandleAsync(http, embeddings)).ShortCircuit();
        v1.MapGet("/models", http => services.GetRequiredService<ModelsEndpoint>().ListAsync(http)).ShortCircuit();
        var responses = new Lazy<ResponsesProtocol>(services.GetRequiredService<ResponsesProtocol>);
        v1.MapPost("/responses", http => pipeline.Value.HandleAsync(http, responses.Value)).ShortCircuit();
        v1.MapGet("/responses/{id}", (string id, HttpContext http) => responses.Value.GetAsync(http, id, services.GetRequiredService<PolicyCache>(), services.GetRequiredService<Identity.AccessTokens>())).ShortCircuit();
        var messages = new Lazy<AnthropicProtocol>(services.GetRequiredService<AnthropicProtocol>);
        v1.MapPost("/messages", http => pipeline.Value.HandleAsync(http, messages.Value)).ShortCircuit();
        // Any other path or method under /v1 is answered in the OpenAI error shape a client can show, not a bare 404 or 405.
        v1.Map("/{**rest}", UnknownAsync).ShortCircuit();
        v1.MapGet("/training/{system}", (string system, HttpContext http, GatewayExtras extras) => extras.TrainingAsync(http, system, acknowledge: false));
        v1.MapPost("/training/{system}/acknowledge", (string system, HttpContext http, GatewayExtras extras) => extras.TrainingAsync(http, system, acknowledge: true));
        v1.MapGet("/interactions/{id}", (string id, HttpContext http, GatewayExtras extras) => extras.InteractionAsync(http, id));
    }

    /// <summary>The gateway's paths and their one method each, for 405 on a known path.</summary>
    private static readonly (string Prefix, bool Exact, string Method)[] Known =
    [
        ("/v1/chat/completions", true, "POST"), ("/v1/embeddings", true, "POST"), ("/v1/models", true, "GET"),
        ("/v1/responses", true, "POST"), ("/v1/responses/", false, "GET"), ("/v1/messages", true, "POST"),
        ("/v1/interactions/", false, "GET"), ("/v1/training/", false, "GET"),
    ];

    private static Task UnknownAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "";
        var known = Known.FirstOrDefault(k => k.Exact ? string.Equals(path.TrimEnd('/'), k.Prefix, StringComparison.Ordinal) : path.StartsWith(k.Prefix, StringComparison.Ordinal));
        var refusal = known.Prefix is null
            ? new GatewayRefusal(404, "unknown_endpoint", $"there is no gateway endpoint {http.Request.Method} {path}; Pilotage serves POST /v1/chat/completions, /v1/responses, /v1/messages and /v1/embeddings, and GET /v1/models")
            : new GatewayRefusal(405, "method_not_allowed", $"{path} takes {known.Method}, not {http.Request.Method}");
        if (refusal.Status == 405) http.Response.Headers.Allow = known.Method;
        return path.StartsWith("/v1/messages", StringComparison.Ordinal)
            ? AnthropicErrors.WriteAsync(http, refusal, null, "none")
            : OpenAiErrors.WriteAsync(http, refusal, null, "none");
    }
}

/// <summary>Training acknowledgement and the status of one interaction (how a held answer is fetched).</summary>
public sealed class GatewayExtras(PolicyCache policy, Identity.AccessTokens tokens, ControlPlane control, PilotageStore store, ApprovalStore approvals, TimeProvider time)
{
    public async Task TrainingAsync(HttpContext http, string slug, bool acknowledge)
    {
        var (caller, snapshot) = await AuthenticateAsync(http, time.GetUtcNow());
        if (caller is not { } key) return;
        // The training is for the people the system serves at some stage and those who may read it; to anyone
        // else it does not exist, as on the control API.
        var who = new Person(key.User.Role, key.User.Email, key.User.Groups);
        if (!snapshot.Systems.TryGetValue(slug, out var system)
            || !(SystemAccess.IsAudience(who, system.State.Spec) || SystemAccess.MayRead(who, system.State.Spec, system.State.PendingOwner)))
        {
            await OpenAiErrors.WriteAsync(http, new GatewayRefusal(404, "model_not_found", $"there is no AI system '{slug}'"), null, "none");
            return;
        }
        var spec = system.State.Spec;
        var acknowledged = snapshot.HasTraining(key.User.Id, system.State.Id);
        if (acknowledge && !acknowledged)
        {
            var hash = PolicySnapshot.TrainingHash(spec.Training.Text);
            await control.ExecuteAsync(key.User.Email, async command =>
            {
                var existing = await command.Db.TrainingAcknowledgements.SingleOrDefaultAsync(t => t.UserId == key.User.Id && t.SystemId == system.State.Id);
                if (existing is null)
                {
                    command.Db.TrainingAcknowledgements.Add(new TrainingAcknowledgementRow { UserId = key.User.Id, SystemId = system.State.Id, TextHash = hash, AcknowledgedAt = command.Now });
                }
                else
                {
                    existing.TextHash = hash;
                    existing.AcknowledgedAt = command.Now;
                }
                command.Audit("training.acknowledged", $"system:{slug}", null, JsonSerializer.Serialize(new[] { key.User.Email, hash }, GatewayJsonContext.Default.StringArray));
                return true;
            }, http.RequestAborted);
            acknowledged = true;
        }
        http.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(http.Response.Body, new TrainingView(slug, spec.Training.Required, spec.Training.Text, acknowledged), GatewayJsonContext.Default.TrainingView, http.RequestAborted);
    }

    public async Task InteractionAsync(HttpContext http, string id)
    {
        var (caller, snapshot) = await AuthenticateAsync(http, time.GetUtcNow());
        if (caller is not { } key) return;
        await using var db = store.CreateDbContext();
        var record = await db.Interactions.AsNoTracking().SingleOrDefaultAsync(i => i.Id == id, http.RequestAborted);
        var allowed = record is not null && (record.UserId == key.User.Id
            || (snapshot.Systems.TryGetValue(record.System, out var system)
                && SystemAccess.MayRead(new Person(key.User.Role, key.User.Email, key.User.Groups), system.State.Spec, system.State.PendingOwner)));
        if (!allowed)
        {
            await OpenAiErrors.WriteAsync(http, new GatewayRefusal(404, "interaction_not_found", $"no interaction '{id}' that this key may see"), null, "none");
            return;
        }
        var approval = record!.Outcome == InteractionOutcomes.Held ? await approvals.FindAsync(id, http.RequestAborted) : null;
        if (approval?.State == ApprovalStates.Released)
        {
            // The released answer is the upstream's own JSON, exactly as a direct call would have returned it.
            http.Response.ContentType = "application/json";
            OpenAiErrors.SetHeaders(http, id, record.Mode);
            http.Response.Headers["x-pilotage-status"] = ApprovalStates.Released;
            await http.Response.WriteAsync(approval.HeldResponse, http.RequestAborted);
            return;
        }
        var status = approval?.State ?? record.Outcome;
        http.Response.ContentType = "application/json";
        OpenAiErrors.SetHeaders(http, id, record.Mode);
        http.Response.Headers["x-pilotage-status"] = status;
        await JsonSerializer.SerializeAsync(http.Response.Body,
            new InteractionStatus(id, "pilotage.interaction", record.System, status, record.Mode, record.CreatedAt, approval?.Reason ?? record.RefusalReason),
            GatewayJsonContext.Default.InteractionStatus, http.RequestAborted);
    }

    private async Task<(KeyGrant? Key, PolicySnapshot Snapshot)> AuthenticateAsync(HttpContext http, DateTimeOffset at)
    {
        var (step, snapshot) = await Authenticator.AuthenticateAsync(http.Request, policy, tokens, at);
        if (step.Value is { } key) return (key, snapshot);
        // A refused token keeps its reason (expired, wrong audience…); a refused key the one general answer.
        var refusal = Identity.AccessTokens.LooksLikeJwt(Authenticator.TokenOf(http.Request)) && tokens.Enabled && step.Refusal is { } refused
            ? refused.Error
            : new GatewayRefusal(401, "invalid_api_key", "send a valid, active Pilotage key as 'Authorization: Bearer <key>'");
        await OpenAiErrors.WriteAsync(http, refusal, null, "none");
        return (null, snapshot);
    }
}
