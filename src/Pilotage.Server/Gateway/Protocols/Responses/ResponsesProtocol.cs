using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text;
using Pilotage.Core.Gateway;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Protocols.Responses;

/// <summary>
/// The OpenAI Responses API (<c>POST /v1/responses</c>, <c>GET /v1/responses/{id}</c>): requests are translated to
/// the common model (<see cref="ResponsesRequest"/>), answers and streams rendered back as response objects and
/// typed events; errors take the OpenAI shape.
/// </summary>
internal sealed class ResponsesProtocol(StoredResponses stored, TimeProvider time) : IClientProtocol
{
    public GatewayOperation Operation => GatewayOperation.Chat;

    public async ValueTask<Step<ClientRequest>> ParseAsync(ReceivedBody body, KeyGrant key, CancellationToken ct)
    {
        var json = body.Json;
        if ((RequestShape.TextProblem(json, body.Bytes.Span) ?? ChatCompletionsProtocol.ModelProblem(json)) is { } problem) return Invalid(problem);
        if (json["input"] is null) return Invalid("'input' is required: a string, or an array of input items");
        var model = json["model"]!.GetValue<string>();
        IReadOnlyList<JsonObject> history = [];
        string? previous = null;
        switch (json["previous_response_id"])
        {
            case null:
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                previous = value.GetValue<string>();
                (history, var missing) = await stored.ConversationAsync(previous, model, key, ct);
                if (missing is not null) return Invalid(missing);
                break;
            default:
                return Invalid("'previous_response_id' must be a string: the id of an earlier response");
        }
        var (chat, translation) = ResponsesRequest.ToChat(json, history);
        if (translation is not null) return Invalid(translation);
        // The translated request meets the same checks as one sent to chat completions.
        if (RequestShape.ChatProblem(chat!) is { } chatProblem) return Invalid(chatProblem);
        var stream = chat!["stream"]?.GetValueKind() == JsonValueKind.True;
        return new ClientRequest(model, chat, stream, WantsUsage: true, Context: new ResponsesContext(ResponsesAnswer.Echo(json), previous));
    }

    private static Refusal Invalid(string problem) => Refusal.Rejected(400, "invalid_request", problem);

    public Task WriteErrorAsync(HttpContext http, GatewayRefusal refusal, string? interactionId, string mode) =>
        OpenAiErrors.WriteAsync(http, refusal, interactionId, mode);

    public Task WriteAnswerAsync(HttpContext http, ReleasedAnswer answer)
    {
        var completion = JsonNode.Parse(answer.Body) as JsonObject ?? [];
        var response = ResponsesAnswer.FromChat(completion, answer.InteractionId, answer.Request.Model, Context(answer.Request), time.GetUtcNow().ToUnixTimeSeconds());
        GatewayHeaders.Set(http, null, answer.Mode, answer.Held);
        return OpenAiErrors.WriteJsonAsync(http, answer.Status, Encoding.UTF8.GetBytes(response.ToJsonString()), answer.InteractionId, answer.Mode);
    }

    public IAnswerStream OpenStream(HttpContext http, AdmittedRequest request) =>
        new ResponsesStream(http, request.Id, request.Subject.Mode, request.Request.Model, Context(request.Request), time.GetUtcNow().ToUnixTimeSeconds());

    private static ResponsesContext Context(ClientRequest request) => request.Context as ResponsesContext ?? new ResponsesContext([], null);

    /// <summary><c>GET /v1/responses/{id}</c>: a stored response, rendered again from its evidence record.</summary>
    public async Task GetAsync(HttpContext http, string id, PolicyCache policy, Identity.AccessTokens tokens)
    {
        var (key, _) = await Authenticator.AuthenticateAsync(http.Request, policy, tokens, time.GetUtcNow());
        if (key.Refusal is { } refusal)
        {
            await OpenAiErrors.WriteAsync(http, refusal.Error, null, "none");
            return;
        }
        var row = await stored.ReadableAsync(id, key.Value!, http.RequestAborted);
        if (row is null || row.Outcome != "served" || row.ResponseContent is null)
        {
            var why = row is null ? "no response '" + id + "' that this key may see"
                : row.ResponseContent is null && row.Outcome == "served" ? $"response '{id}' is kept as hashes only; its text is not stored"
                : $"response '{id}' was {row.Outcome}; GET /v1/interactions/{row.Id} tells its status";
            await OpenAiErrors.WriteAsync(http, new GatewayRefusal(404, "response_not_found", why), row?.Id, row?.Mode ?? "none");
            return;
        }
        var response = ResponsesAnswer.FromChat(StoredResponses.Completion(row), row.Id, row.System, new ResponsesContext(ResponsesAnswer.Echo([]), null), row.CreatedAt.ToUnixTimeSeconds());
        await OpenAiErrors.WriteJsonAsync(http, StatusCodes.Status200OK, Encoding.UTF8.GetBytes(response.ToJsonString()), row.Id, row.Mode);
    }
}
