using System.Text.Json.Nodes;
using System.Text.Json;
using Pilotage.Core.Evidence;
using Pilotage.Core.Gateway;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Protocols.Responses;

/// <summary>
/// The OpenAI Responses API (<c>POST /v1/responses</c>, <c>GET /v1/responses/{id}</c>): requests are translated to
/// the common model (<see cref="ResponsesRequest"/>), answers and streams rendered back as response objects and
/// typed events; errors take the OpenAI shape. To a Responses upstream the body, answer and events pass through,
/// with only what policy controls rewritten, and the response id is Pilotage's (docs/gateway.md).
/// </summary>
internal sealed class ResponsesProtocol(StoredResponses stored, TimeProvider time) : IClientProtocol
{
    public GatewayOperation Operation => GatewayOperation.Chat;

    public Core.Specs.UpstreamProtocol? Native => Core.Specs.UpstreamProtocol.OpenAiResponses;

    public async ValueTask<Step<ClientRequest>> ParseAsync(ReceivedBody body, KeyGrant key, bool passThrough, CancellationToken ct)
    {
        var json = body.Json;
        if ((RequestShape.TextProblem(json, body.Bytes.Span) ?? ChatCompletionsProtocol.ModelProblem(body.Element)) is { } problem) return Invalid(problem);
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
        var (chat, translation) = ResponsesRequest.ToChat(json, history, passThrough);
        if (translation is not null) return Invalid(translation);
        // The translated request meets the same checks as one sent to chat completions.
        if (RequestShape.ChatProblem(chat!) is { } chatProblem) return Invalid(chatProblem);
        var stream = chat!["stream"]?.GetValueKind() == JsonValueKind.True;
        var context = new ResponsesContext(json, previous);
        if (passThrough && previous is not null) Continue(json, history);
        return new ClientRequest(model, chat, stream, WantsUsage: true, Context: context, Native: passThrough ? json : null);
    }

    /// <summary>
    /// A body passed through that continues a response: Pilotage keeps the conversation (the upstream is sent
    /// <c>store: false</c>), so the earlier turns go in front of <c>input</c>, as items, instead of the id.
    /// </summary>
    private static void Continue(JsonObject json, IReadOnlyList<JsonObject> history)
    {
        json.Remove("previous_response_id");
        var earlier = Upstream.ResponsesUpstreamRequest.FromChat(new JsonObject { ["messages"] = new JsonArray([.. history.Select(m => m.DeepClone())]) })["input"] as JsonArray ?? [];
        var items = new JsonArray();
        foreach (var item in earlier.ToList())
        {
            earlier.Remove(item);
            items.Add(item);
        }
        if (json["input"] is JsonArray input)
        {
            foreach (var item in input.ToList())
            {
                input.Remove(item);
                items.Add(item);
            }
        }
        else
        {
            items.Add(new JsonObject { ["role"] = "user", ["content"] = json["input"]?.DeepClone() });
        }
        json["input"] = items;
    }

    private static Refusal Invalid(string problem) => Refusal.Rejected(400, "invalid_request", problem);

    public Task WriteErrorAsync(HttpContext http, GatewayRefusal refusal, string? interactionId, string mode) =>
        OpenAiErrors.WriteAsync(http, refusal, interactionId, mode);

    public Task WriteAnswerAsync(HttpContext http, ReleasedAnswer answer)
    {
        if (answer.Native is { } native)
        {
            var context = Context(answer.Request);
            var identified = context.PreviousResponseId is null ? WithId(native, ResponsesAnswer.ResponseId(answer.InteractionId)) : null;
            if (identified is null)
            {
                var passed = JsonNode.Parse(native) as JsonObject ?? [];
                Identify(passed, answer.InteractionId, context);
                identified = JsonSerializer.SerializeToUtf8Bytes(passed, GatewayJsonContext.Default.JsonNode);
            }
            GatewayHeaders.Set(http, null, answer.Mode, answer.Held);
            return OpenAiErrors.WriteJsonAsync(http, answer.Status, identified, answer.InteractionId, answer.Mode);
        }
        var completion = JsonNode.Parse(answer.Body) as JsonObject ?? [];
        var response = ResponsesAnswer.FromChat(completion, answer.InteractionId, answer.Request.Model, Context(answer.Request), time.GetUtcNow().ToUnixTimeSeconds());
        GatewayHeaders.Set(http, null, answer.Mode, answer.Held);
        return OpenAiErrors.WriteJsonAsync(http, answer.Status, JsonSerializer.SerializeToUtf8Bytes(response, GatewayJsonContext.Default.JsonNode), answer.InteractionId, answer.Mode);
    }

    public IAnswerStream OpenStream(HttpContext http, AdmittedRequest request) =>
        new ResponsesStream(http, request.Id, request.Subject.Mode, request.Request.Model, Context(request.Request), time.GetUtcNow().ToUnixTimeSeconds());

    public PassThroughStream? OpenPassThrough(HttpContext http, AdmittedRequest request)
    {
        var context = Context(request.Request);
        return new PassThroughStream(http, request.Id, request.Subject.Mode, ResponsesStream.ErrorEvent, (eventName, data) =>
        {
            // Only the events that carry the response object name it; the others pass untouched.
            if (eventName is not null && !eventName.StartsWith("response.", StringComparison.Ordinal) || eventName?.Contains("delta", StringComparison.Ordinal) == true || !data.Contains("\"response\"", StringComparison.Ordinal)) return data;
            if (JsonNode.Parse(data) is not JsonObject e || UntrustedJson.Member(e, "response") is not JsonObject response) return data;
            Identify(response, request.Id, context);
            return e.ToJsonString();
        });
    }

    /// <summary>
    /// A response passed through takes Pilotage's id (<c>resp_</c> and the interaction id): the conversation and the
    /// response are kept in Pilotage's evidence, where <c>previous_response_id</c> and <c>GET /v1/responses/{id}</c> find them.
    /// </summary>
    private static void Identify(JsonObject response, string interactionId, ResponsesContext context)
    {
        response["id"] = ResponsesAnswer.ResponseId(interactionId);
        if (context.PreviousResponseId is { } previous) response["previous_response_id"] = previous;
    }

    /// <summary>
    /// The response with its top-level <c>id</c> replaced in place, the rest of its bytes as they came (no tree is
    /// built: this is every answer's path). Null when it has no string <c>id</c>. A response with a key twice never
    /// gets here: reading it into the common model refused it.
    /// </summary>
    private static byte[]? WithId(byte[] response, string id)
    {
        var reader = new Utf8JsonReader(response, new JsonReaderOptions { MaxDepth = 64 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isId = reader.ValueTextEquals("id"u8);
            reader.Read();
            if (isId && reader.TokenType == JsonTokenType.String)
            {
                var start = (int)reader.TokenStartIndex;
                var end = start + reader.ValueSpan.Length + 2; // the raw token, quotes included
                // Written once into an array of the final size: no intermediate string or array.
                var encoded = JsonEncodedText.Encode(id).EncodedUtf8Bytes;
                var identified = new byte[start + encoded.Length + 2 + response.Length - end];
                response.AsSpan(0, start).CopyTo(identified);
                identified[start] = (byte)'"';
                encoded.CopyTo(identified.AsSpan(start + 1));
                identified[start + 1 + encoded.Length] = (byte)'"';
                response.AsSpan(end).CopyTo(identified.AsSpan(start + encoded.Length + 2));
                return identified;
            }
            reader.Skip();
        }
        return null;
    }

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
        if (row is null || row.Outcome != InteractionOutcomes.Served || row.ResponseContent is null)
        {
            var why = row is null ? "no response '" + id + "' that this key may see"
                : row.ResponseContent is null && row.Outcome == InteractionOutcomes.Served ? $"response '{id}' is kept as hashes only; its text is not stored"
                : $"response '{id}' was {row.Outcome}; GET /v1/interactions/{row.Id} tells its status";
            await OpenAiErrors.WriteAsync(http, new GatewayRefusal(404, "response_not_found", why), row?.Id, row?.Mode ?? "none");
            return;
        }
        var response = ResponsesAnswer.FromChat(StoredResponses.Completion(row), row.Id, row.System, new ResponsesContext([], null), row.CreatedAt.ToUnixTimeSeconds());
        await OpenAiErrors.WriteJsonAsync(http, StatusCodes.Status200OK, JsonSerializer.SerializeToUtf8Bytes(response, GatewayJsonContext.Default.JsonNode), row.Id, row.Mode);
    }
}
