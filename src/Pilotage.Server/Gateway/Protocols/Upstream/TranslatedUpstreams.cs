using System.Net.Http.Headers;
using System.Text.Json;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Protocols.Upstream;

/// <summary>An upstream that speaks the OpenAI Responses API: requests, answers and streams translated from and to the common model.</summary>
internal sealed class OpenAiResponsesUpstream : IUpstreamProtocol
{
    public Uri? Url(GatewaySystem system, GatewayOperation operation) => operation == GatewayOperation.Chat ? system.ChatUrl : null;

    public void Authorize(HttpRequestHeaders headers, string? key)
    {
        if (key is not null) headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
    }

    public byte[] Request(byte[] common) =>
        JsonSerializer.SerializeToUtf8Bytes(ResponsesUpstreamRequest.FromChat(CommonContent.Object(common, "the request")), GatewayJsonContext.Default.JsonNode);

    public byte[] Answer(byte[] answer) => AnswerTranslation.TryResponses(answer, out var chat) ? chat :
        JsonSerializer.SerializeToUtf8Bytes(ResponsesUpstreamAnswer.ToChat(CommonContent.Object(answer, "the answer")), GatewayJsonContext.Default.JsonNode);

    public IUpstreamStream Stream() => new ResponsesUpstreamStream();
}

/// <summary>
/// An upstream that speaks Anthropic Messages: the key goes as <c>x-api-key</c> with the
/// <c>anthropic-version</c> the translation is written for, and everything is translated.
/// </summary>
internal sealed class AnthropicUpstream : IUpstreamProtocol
{
    /// <summary>The Messages API version whose shapes the translation reads and writes.</summary>
    public const string Version = "2023-06-01";

    public Uri? Url(GatewaySystem system, GatewayOperation operation) => operation == GatewayOperation.Chat ? system.ChatUrl : null;

    public void Authorize(HttpRequestHeaders headers, string? key)
    {
        if (key is not null) headers.Add("x-api-key", key);
        headers.Add("anthropic-version", Version);
    }

    public byte[] Request(byte[] common) =>
        JsonSerializer.SerializeToUtf8Bytes(AnthropicUpstreamRequest.FromChat(CommonContent.Object(common, "the request")), GatewayJsonContext.Default.JsonNode);

    public byte[] Answer(byte[] answer) => AnswerTranslation.TryAnthropic(answer, out var chat) ? chat :
        JsonSerializer.SerializeToUtf8Bytes(AnthropicUpstreamAnswer.ToChat(CommonContent.Object(answer, "the answer")), GatewayJsonContext.Default.JsonNode);

    public IUpstreamStream Stream() => new AnthropicUpstreamStream();
}
