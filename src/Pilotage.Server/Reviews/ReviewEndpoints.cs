using System.Text.Json.Serialization.Metadata;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Pilotage.Core.Access;
using Pilotage.Server.Access;
using Pilotage.Server.Gateway;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Reviews;

/// <summary>
/// Reviews on two surfaces with one service: the control API for reviewers (camelCase, problem
/// details) and the gateway's evidence endpoints for apps (snake_case, OpenAI error shape,
/// authenticated from the policy snapshot like every <c>/v1</c> call).
/// </summary>
public static class ReviewEndpoints
{
    /// <summary>Evidence bodies are small; a megabyte leaves room for a long final text.</summary>
    private const long MaxBodyBytes = 1024 * 1024;

    public static void MapReviews(this IEndpointRouteBuilder api)
    {
        var reviews = api.MapGroup("/reviews").WithTags("Reviews");
        reviews.MapGet("/", (string? system, int? limit, HttpContext http, ReviewService service, CancellationToken ct) =>
                service.QueueAsync(system, limit, Poster(http), ct))
            .RequirePermission(Permission.Review)
            .WithSummary("The review queue of the systems you review, oldest first (filter by system; limit 1–500, default 50)");
        reviews.MapPost("/{id}/open", (string id, HttpContext http, ReviewService service, CancellationToken ct) =>
                service.OpenAsync(id, Poster(http), ct))
            .RequirePermission(Permission.Review)
            .WithSummary("Mark a queue item opened (the first open wins): the review time is measured from here when not stated");

        var interactions = api.MapGroup("/interactions").WithTags("Evidence");
        interactions.MapGet("/{id}", (string id, HttpContext http, ReviewService service, CancellationToken ct) =>
                service.RecordAsync(id, Poster(http), ct))
            .RequirePermission(Permission.SystemsRead)
            .WithSummary("One evidence record with its review, feedback and task time (reviewers: the systems they review)");
        interactions.MapPost("/{id}/review", (string id, ReviewRequest? body, HttpContext http, ReviewService service, CancellationToken ct) =>
                service.ReviewAsync(id, body, Poster(http), ReviewService.SourceReviewer, ct))
            .RequirePermission(Permission.Review)
            .WithSummary("Accept, edit, reject or escalate an answer; a newer review replaces the previous one and the roll-ups follow");
    }

    public static void MapEvidenceForApps(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("Gateway").ExcludeFromDescription();
        v1.MapPost("/interactions/{id}/review", (string id, HttpContext http, ReviewService service, PolicyCache policy, TimeProvider time) =>
            HandleAsync(http, policy, time, id, ReviewsJsonContext.Default.ReviewRequest, ReviewsJsonContext.Default.ReviewReceipt,
                (body, key, ct) => service.ReviewAsync(id, body, EvidencePoster.From(key.User), ReviewService.SourceApp, ct)));
        v1.MapPost("/interactions/{id}/feedback", (string id, HttpContext http, ReviewService service, PolicyCache policy, TimeProvider time) =>
            HandleAsync(http, policy, time, id, ReviewsJsonContext.Default.FeedbackRequest, ReviewsJsonContext.Default.FeedbackReceipt,
                (body, key, ct) => service.FeedbackAsync(id, body, EvidencePoster.From(key.User), ct)));
        v1.MapPost("/interactions/{id}/task", (string id, HttpContext http, ReviewService service, PolicyCache policy, TimeProvider time) =>
            HandleAsync(http, policy, time, id, ReviewsJsonContext.Default.TaskRequest, ReviewsJsonContext.Default.TaskReceipt,
                (body, key, ct) => service.TaskAsync(id, body, EvidencePoster.From(key.User), ct)));
        v1.MapPost("/manual-tasks", (HttpContext http, ReviewService service, PolicyCache policy, TimeProvider time) =>
            HandleAsync(http, policy, time, null, ReviewsJsonContext.Default.ManualTaskRequest, ReviewsJsonContext.Default.ManualTaskView,
                (body, key, ct) => service.ManualTaskAsync(body, key, ct)));
    }

    private static EvidencePoster Poster(HttpContext http) => EvidencePoster.From(Actor.From(http.User));

    private static async Task HandleAsync<TRequest, TResponse>(HttpContext http, PolicyCache policy, TimeProvider time, string? interactionId,
        JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, Func<TRequest?, KeyGrant, CancellationToken, Task<TResponse>> handle)
    {
        if (Authenticate(http, policy.Current, time.GetUtcNow()) is not { } key)
        {
            await WriteErrorAsync(http, 401, "invalid_api_key", "send a valid, active Pilotage key as 'Authorization: Bearer <key>'");
            return;
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxBodyBytes;
        TRequest? body;
        try
        {
            body = http.Request.ContentLength == 0 ? default : await JsonSerializer.DeserializeAsync(http.Request.Body, requestType, http.RequestAborted);
        }
        catch (JsonException e)
        {
            await WriteErrorAsync(http, 400, "invalid_json", $"the body is not the expected JSON: {e.Message}");
            return;
        }
        catch (BadHttpRequestException e)
        {
            await WriteErrorAsync(http, e.StatusCode, "invalid_request", e.StatusCode == 413 ? $"the body is larger than {MaxBodyBytes / 1024} KB" : e.Message);
            return;
        }
        TResponse result;
        try
        {
            result = await handle(body, key, http.RequestAborted);
        }
        catch (CommandRefusedException refused)
        {
            await WriteErrorAsync(http, refused.Status, CodeOf(refused.Status, interactionId is null), refused.Message);
            return;
        }
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/json";
        if (interactionId is not null) http.Response.Headers[OpenAiErrors.InteractionHeader] = interactionId;
        await JsonSerializer.SerializeAsync(http.Response.Body, result, responseType, http.RequestAborted);
    }

    /// <summary>The key, checked against the policy snapshot exactly as the gateway checks it (no database round trip).</summary>
    private static KeyGrant? Authenticate(HttpContext http, PolicySnapshot snapshot, DateTimeOffset now) =>
        snapshot.CheckKey(PolicySnapshot.BearerToken(http.Request.Headers.Authorization.ToString()), now).Usable;

    private static string CodeOf(int status, bool manual) => status switch
    {
        400 => "invalid_value",
        403 => "not_allowed",
        404 => manual ? "model_not_found" : "interaction_not_found",
        409 => "no_answer",
        503 => "evidence_unavailable",
        _ => "error",
    };

    /// <summary>The OpenAI error shape, so an app's OpenAI error handling shows these messages unchanged.</summary>
    private static async Task WriteErrorAsync(HttpContext http, int status, string code, string message)
    {
        if (http.Response.HasStarted) return;
        var type = status switch
        {
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            >= 500 => "server_error",
            _ => "invalid_request_error",
        };
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(http.Response.Body, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("message", message);
        writer.WriteString("type", type);
        writer.WriteString("code", code);
        writer.WriteNull("param");
        writer.WriteEndObject();
        writer.WriteEndObject();
        await writer.FlushAsync(http.RequestAborted);
    }
}
