using System.Text.Json.Nodes;
using System.Text.Json;
using Pilotage.Core.Gateway;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Protocols.Anthropic;

/// <summary>
/// The Anthropic Messages API (<c>POST /v1/messages</c>, keys as <c>x-api-key</c> or Bearer, any
/// <c>anthropic-version</c>): requests translated to the common model (<see cref="AnthropicRequest"/>), answers
/// and streams rendered as Anthropic messages and events, errors in Anthropic's shape. To an Anthropic upstream the
/// body, answer and events pass through as they are, with only what policy controls rewritten (docs/gateway.md).
/// </summary>
internal sealed class AnthropicProtocol : IClientProtocol
{
    public GatewayOperation Operation => GatewayOperation.Chat;

    public Core.Specs.UpstreamProtocol? Native => Core.Specs.UpstreamProtocol.Anthropic;

    public ValueTask<Step<ClientRequest>> ParseAsync(ReceivedBody body, KeyGrant key, bool passThrough, CancellationToken ct)
    {
        var json = body.Json;
        if ((RequestShape.TextProblem(json, body.Bytes.Span) ?? ChatCompletionsProtocol.ModelProblem(body.Element)) is { } problem) return Invalid(problem);
        var (chat, translation) = AnthropicRequest.ToChat(json, passThrough);
        if ((translation ?? RequestShape.ChatProblem(chat!)) is { } chatProblem) return Invalid(chatProblem);
        var stream = chat!["stream"]?.GetValueKind() == JsonValueKind.True;
        return ValueTask.FromResult<Step<ClientRequest>>(new ClientRequest(json["model"]!.GetValue<string>(), chat, stream, WantsUsage: true, Native: passThrough ? json : null));
    }

    private static ValueTask<Step<ClientRequest>> Invalid(string problem) =>
        ValueTask.FromResult<Step<ClientRequest>>(Refusal.Rejected(400, "invalid_request", problem));

    public Task WriteErrorAsync(HttpContext http, GatewayRefusal refusal, string? interactionId, string mode) =>
        AnthropicErrors.WriteAsync(http, refusal, interactionId, mode);

    public Task WriteAnswerAsync(HttpContext http, ReleasedAnswer answer)
    {
        if (answer.Native is { } native)
        {
            GatewayHeaders.Set(http, null, answer.Mode, answer.Held);
            return OpenAiErrors.WriteJsonAsync(http, answer.Status, native, answer.InteractionId, answer.Mode);
        }
        var completion = JsonNode.Parse(answer.Body) as JsonObject ?? [];
        var message = AnthropicAnswer.FromChat(completion, answer.InteractionId, answer.Request.Model);
        GatewayHeaders.Set(http, null, answer.Mode, answer.Held);
        return OpenAiErrors.WriteJsonAsync(http, answer.Status, JsonSerializer.SerializeToUtf8Bytes(message, GatewayJsonContext.Default.JsonNode), answer.InteractionId, answer.Mode);
    }

    public IAnswerStream OpenStream(HttpContext http, AdmittedRequest request) =>
        new AnthropicStream(http, request.Id, request.Subject.Mode, request.Request.Model);

    public PassThroughStream? OpenPassThrough(HttpContext http, AdmittedRequest request) =>
        new(http, request.Id, request.Subject.Mode, AnthropicErrors.StreamEvent);
}
