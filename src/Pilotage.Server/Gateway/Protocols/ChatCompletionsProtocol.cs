using System.Buffers;
using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text;
using Pilotage.Core.Gateway;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Protocols;

/// <summary>
/// OpenAI chat completions (<c>POST /v1/chat/completions</c>): the common model itself, so requests and answers
/// pass as they are (the answer's bytes exactly as the upstream sent them) and errors take the OpenAI shape.
/// </summary>
internal sealed class ChatCompletionsProtocol : IClientProtocol
{
    public GatewayOperation Operation => GatewayOperation.Chat;

    public Core.Specs.UpstreamProtocol? Native => Core.Specs.UpstreamProtocol.OpenAiChat;

    /// <summary>The body is the common model: to a chat upstream it passes through whatever <paramref name="passThrough"/> says.</summary>
    public ValueTask<Step<ClientRequest>> ParseAsync(ReceivedBody body, KeyGrant key, bool passThrough, CancellationToken ct)
    {
        // Checked and read from the parsed elements: the tree of the body is built later only if a stage needs it (the
        // boundary's scan, read-only mode's tools, or a translated request), never to check it.
        var root = body.Element;
        var messages = RequestShape.Member(root, "messages");
        var problem = RequestShape.TextProblem(body.Json, body.Bytes.Span) is { } text ? text
            : ModelProblem(root) is { } model ? model
            : messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0 ? "'messages' must be a non-empty array"
            : RequestShape.ChatProblem(root);
        if (problem is not null) return ValueTask.FromResult<Step<ClientRequest>>(Refusal.Rejected(400, "invalid_request", problem));
        var stream = RequestShape.Member(root, "stream").ValueKind == JsonValueKind.True;
        var options = RequestShape.Member(root, "stream_options");
        var usage = stream && options.ValueKind == JsonValueKind.Object && RequestShape.Member(options, "include_usage").ValueKind == JsonValueKind.True;
        return ValueTask.FromResult<Step<ClientRequest>>(new ClientRequest(RequestShape.Member(root, "model").GetString()!, body.Json, stream, usage, Received: root));
    }

    /// <summary>The shared check of every protocol's <c>model</c>, the name of the system, read from the parsed body.</summary>
    public static string? ModelProblem(JsonElement body) =>
        RequestShape.Member(body, "model").ValueKind != JsonValueKind.String
            ? "'model' must be a string: the name of the AI system (GET /v1/models lists yours)"
            : null;

    public Task WriteErrorAsync(HttpContext http, GatewayRefusal refusal, string? interactionId, string mode) =>
        OpenAiErrors.WriteAsync(http, refusal, interactionId, mode);

    public Task WriteAnswerAsync(HttpContext http, ReleasedAnswer answer)
    {
        GatewayHeaders.Set(http, null, answer.Mode, answer.Held);
        return OpenAiErrors.WriteJsonAsync(http, answer.Status, answer.Body, answer.InteractionId, answer.Mode);
    }

    public IAnswerStream OpenStream(HttpContext http, AdmittedRequest request) => new ChatStream(http, request.Id, request.Subject.Mode);

    public PassThroughStream? OpenPassThrough(HttpContext http, AdmittedRequest request) => null;

    /// <summary>Chunks go out as the upstream framed them; <c>[DONE]</c> ends a complete answer.</summary>
    private sealed class ChatStream(HttpContext http, string id, string mode) : IAnswerStream
    {
        private Stream Output => http.Response.Body;

        public Task StartAsync(bool held, CancellationToken ct)
        {
            GatewayHeaders.StartEventStream(http, held ? StatusCodes.Status202Accepted : StatusCodes.Status200OK, id, mode, held);
            return Task.CompletedTask;
        }

        // Written into the response's pipe and flushed once: no frame string, no byte copy of it, one send.
        public async ValueTask WriteChunkAsync(JsonObject chunk, string raw, CancellationToken ct)
        {
            var writer = http.Response.BodyWriter;
            writer.Write("data: "u8);
            Encoding.UTF8.GetBytes(raw, writer);
            writer.Write("\n\n"u8);
            await writer.FlushAsync(ct);
        }

        public bool WritesReceivedChunks => true;

        public async ValueTask WriteReceivedChunkAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
        {
            var writer = http.Response.BodyWriter;
            writer.Write("data: "u8);
            writer.Write(data.Span);
            writer.Write("\n\n"u8);
            await writer.FlushAsync(ct);
        }

        // Written into the response's pipe from the literal's own bytes: no array copied for each answer's last event.
        public async ValueTask KeepAliveAsync(CancellationToken ct)
        {
            http.Response.BodyWriter.Write(": held for review\n\n"u8);
            await http.Response.BodyWriter.FlushAsync(ct);
        }

        public async Task CompleteAsync()
        {
            http.Response.BodyWriter.Write("data: [DONE]\n\n"u8);
            await http.Response.BodyWriter.FlushAsync(CancellationToken.None);
        }

        public async Task FailAsync(GatewayRefusal refusal) => await Output.WriteAsync(OpenAiErrors.StreamEvent(refusal), CancellationToken.None);
    }
}

/// <summary>OpenAI embeddings (<c>POST /v1/embeddings</c>): the common model itself, never streamed.</summary>
internal sealed class EmbeddingsProtocol : IClientProtocol
{
    public GatewayOperation Operation => GatewayOperation.Embeddings;

    public Core.Specs.UpstreamProtocol? Native => null;

    public ValueTask<Step<ClientRequest>> ParseAsync(ReceivedBody body, KeyGrant key, bool passThrough, CancellationToken ct)
    {
        var json = body.Json;
        var problem = RequestShape.TextProblem(json, body.Bytes.Span) is { } text ? text
            : ChatCompletionsProtocol.ModelProblem(body.Element) is { } model ? model
            : json["input"] is null ? "'input' is required"
            : null;
        return ValueTask.FromResult<Step<ClientRequest>>(problem is not null
            ? Refusal.Rejected(400, "invalid_request", problem)
            : new ClientRequest(json["model"]!.GetValue<string>(), json, Stream: false));
    }

    public Task WriteErrorAsync(HttpContext http, GatewayRefusal refusal, string? interactionId, string mode) =>
        OpenAiErrors.WriteAsync(http, refusal, interactionId, mode);

    public Task WriteAnswerAsync(HttpContext http, ReleasedAnswer answer) =>
        OpenAiErrors.WriteJsonAsync(http, answer.Status, answer.Body, answer.InteractionId, answer.Mode);

    public IAnswerStream OpenStream(HttpContext http, AdmittedRequest request) =>
        throw new NotSupportedException("embeddings are never streamed");

    public PassThroughStream? OpenPassThrough(HttpContext http, AdmittedRequest request) => null;
}
