using System.Text.Json.Nodes;
using System.Text.Json;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>A request body as received: its bytes (within the byte budget) and the JSON object they hold.</summary>
/// <param name="Json">The object as a tree, built from <paramref name="Element"/> only as far as it is read.</param>
/// <param name="Element">The parsed object: what is read without building the tree.</param>
internal sealed record ReceivedBody(JsonObject Json, ReadOnlyMemory<byte> Bytes, JsonElement Element);

/// <summary>
/// Takes the key's and the server's places among the calls in flight, then reads the body within the byte
/// budget and parses it. The places come first, so a request refused for load costs neither its body nor a parse.
/// </summary>
internal sealed class RequestIntake(UpstreamLimits limits, BufferBudget bufferBudget)
{
    // Duplicate keys in a request are refused: with two "model"s, the gateway and the upstream could each read a different one.
    private static readonly JsonDocumentOptions RequestParseOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    public Step<GatewayAdmission> TakePlaces(KeyGrant key)
    {
        var (admission, busy) = limits.Admit(key.Id);
        return admission is null ? Refusal.Shed(busy!) : admission;
    }

    // A ValueTask: a small body has arrived with the headers, so the read completes at once and, as a Task, would
    // have cost a Task object per request for nothing.
    public async ValueTask<Step<ReceivedBody>> ReadAsync(HttpContext http, GatewayAdmission places)
    {
        try
        {
            if (await bufferBudget.ReadBodyAsync(http.Request, places, http.RequestAborted) is not { } bytes)
            {
                return Refusal.Shed(bufferBudget.Exhausted("this request's body"));
            }
            var element = Parse(bytes.Span);
            return element.ValueKind == JsonValueKind.Object
                ? new ReceivedBody(JsonObject.Create(element)!, bytes, element)
                : Refusal.Rejected(400, "invalid_request", "the request body must be a JSON object");
        }
        catch (JsonException e)
        {
            return Refusal.Rejected(400, "invalid_json", $"the request body is not valid JSON ({e.Message}); send a JSON object as the API documents it");
        }
        catch (BadHttpRequestException e)
        {
            return e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? Refusal.Rejected(413, "request_too_large", $"the request body is larger than the gateway accepts ({Api.RequestLimits.MaxBodyBytes / 1024 / 1024} MB); send less text, or split the work into several requests")
                : Refusal.Rejected(e.StatusCode, "invalid_request", $"the request could not be read: {e.Message}");
        }
    }

    // The duplicate-key check unescapes every key and throws InvalidOperationException, not JsonException, when a
    // key holds half of a UTF-16 surrogate pair ("\ud800"): that is a malformed request like any other, not a 500.
    // Parsed as an element, whose tree (JsonObject.Create) is built only as far as something reads it: what JsonNode.Parse
    // does, with the element kept, so that a chat request to a chat upstream is checked and written without the tree.
    private static JsonElement Parse(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return JsonElement.Parse(bytes, RequestParseOptions);
        }
        catch (InvalidOperationException e)
        {
            throw new JsonException("a property name holds a \\u escape of half a UTF-16 surrogate pair, with no partner; fix or remove that key", e);
        }
    }
}
