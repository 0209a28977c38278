using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Pilotage.Server.Gateway.Protocols.Upstream;

/// <summary>
/// A whole upstream answer of another protocol (Responses API, Anthropic Messages) translated to a chat completion
/// in one pass over a pooled document, written straight to UTF-8: the same bytes as the node trees of
/// <see cref="ResponsesUpstreamAnswer"/> and <see cref="AnthropicUpstreamAnswer"/> give, without building either
/// tree (the parsed answer and the completion were most of what a translated answer allocated, see
/// docs/benchmarks.md, alloc mode). It reads the ordinary answer, text and function calls; anything else (a key
/// twice or escaped, a lone surrogate, a failed response, an Anthropic tool call, an odd type) it declines, and
/// the node trees read it, or refuse it, as they always did.
/// </summary>
internal static class AnswerTranslation
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    /// <summary>A Responses API <c>response</c> as a chat completion; false declines, with nothing read.</summary>
    public static bool TryResponses(byte[] answer, out byte[] chat)
    {
        chat = [];
        if (Parse(answer) is not { } document) return false;
        using (document)
        {
            var response = document.RootElement;
            if (!Plain(response) || !Equals(response, "object"u8, "response"u8)) return false;
            if (!TryText(response, "status"u8, out var status) || status == "failed") return false;
            var finishOverride = (string?)null;
            if (status == "incomplete")
            {
                var details = Member(response, "incomplete_details"u8);
                if (details.ValueKind == JsonValueKind.Object && !Plain(details)) return false;
                if (!TryText(details, "reason"u8, out var reason)) return false;
                finishOverride = reason == "content_filter" ? "content_filter" : "length";
            }
            if (Member(response, "output"u8) is not { ValueKind: JsonValueKind.Array } output) return false;
            var text = new StringBuilder();
            StringBuilder? refusal = null;
            List<(string Id, string Name, string Arguments)>? calls = null;
            foreach (var item in output.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object) continue;
                if (!Plain(item) || !TryText(item, "type"u8, out var type)) return false;
                if (type == "message")
                {
                    if (Member(item, "content"u8) is not { ValueKind: JsonValueKind.Array } parts) continue;
                    foreach (var part in parts.EnumerateArray())
                    {
                        if (part.ValueKind != JsonValueKind.Object) continue;
                        if (!Plain(part) || !TryText(part, "type"u8, out var kind)) return false;
                        if (kind == "output_text")
                        {
                            if (!TryText(part, "text"u8, out var piece)) return false;
                            text.Append(piece);
                        }
                        else if (kind == "refusal")
                        {
                            if (!TryText(part, "refusal"u8, out var piece)) return false;
                            (refusal ??= new StringBuilder()).Append(piece);
                        }
                    }
                }
                else if (type == "function_call")
                {
                    calls ??= [];
                    if (!TryText(item, "call_id"u8, out var id) || !TryText(item, "name"u8, out var name) || name is null || !TryText(item, "arguments"u8, out var arguments)) return false;
                    calls.Add((id ?? $"call_{calls.Count}", name, arguments ?? "{}"));
                }
            }
            if (!TryText(response, "id"u8, out var responseId) || !TryText(response, "model"u8, out var model)) return false;
            var created = Member(response, "created_at"u8);
            if (created.ValueKind is JsonValueKind.String or JsonValueKind.True or JsonValueKind.False) return false;
            var at = created.ValueKind == JsonValueKind.Number && created.TryGetInt64(out var number) ? number : 0;
            if (!TryUsage(response, out var usage)) return false;
            var finish = finishOverride ?? (calls is { Count: > 0 } ? "tool_calls" : "stop");
            chat = Completion(responseId ?? "resp", model ?? "", at, text, refusal, calls, finish, Int32(usage, "input_tokens"u8), Int32(usage, "output_tokens"u8));
            return true;
        }
    }

    /// <summary>An Anthropic <c>message</c> of text as a chat completion; false declines (tool calls included), with nothing read.</summary>
    public static bool TryAnthropic(byte[] answer, out byte[] chat)
    {
        chat = [];
        if (Parse(answer) is not { } document) return false;
        using (document)
        {
            var message = document.RootElement;
            if (!Plain(message) || !Equals(message, "type"u8, "message"u8)) return false;
            if (Member(message, "content"u8) is not { ValueKind: JsonValueKind.Array } blocks) return false;
            var text = new StringBuilder();
            foreach (var block in blocks.EnumerateArray())
            {
                if (block.ValueKind != JsonValueKind.Object) continue;
                if (!Plain(block) || !TryText(block, "type"u8, out var type) || type == "tool_use") return false;
                if (type != "text") continue;
                if (!TryText(block, "text"u8, out var piece)) return false;
                text.Append(piece);
            }
            if (!TryText(message, "id"u8, out var id) || !TryText(message, "model"u8, out var model) || !TryText(message, "stop_reason"u8, out var stop)) return false;
            if (!TryUsage(message, out var usage)) return false;
            var input = Int32(usage, "input_tokens"u8) + Int32(usage, "cache_creation_input_tokens"u8) + Int32(usage, "cache_read_input_tokens"u8);
            chat = Completion(id ?? "msg", model ?? "", 0, text, null, null, AnthropicUpstreamAnswer.Finish(stop), input, Int32(usage, "output_tokens"u8));
            return true;
        }
    }

    private static JsonDocument? Parse(byte[] answer)
    {
        try
        {
            return JsonDocument.Parse(answer.AsMemory(), ParseOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The completion as <see cref="CommonContent.Completion"/> builds it, written as its node tree serialises.</summary>
    private static byte[] Completion(string id, string model, long created, StringBuilder text, StringBuilder? refusal,
        List<(string Id, string Name, string Arguments)>? calls, string finish, int input, int output)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + text.Length * 2);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id"u8, id);
            json.WriteString("object"u8, "chat.completion"u8);
            json.WriteNumber("created"u8, created);
            json.WriteString("model"u8, model);
            json.WriteStartArray("choices"u8);
            json.WriteStartObject();
            json.WriteNumber("index"u8, 0);
            json.WriteStartObject("message"u8);
            json.WriteString("role"u8, "assistant"u8);
            if (text.Length == 0 && calls is { Count: > 0 }) json.WriteNull("content"u8);
            else json.WriteString("content"u8, text.ToString());
            if (refusal is { Length: > 0 }) json.WriteString("refusal"u8, refusal.ToString());
            if (calls is { Count: > 0 })
            {
                json.WriteStartArray("tool_calls"u8);
                foreach (var (callId, name, arguments) in calls)
                {
                    json.WriteStartObject();
                    json.WriteString("id"u8, callId);
                    json.WriteString("type"u8, "function"u8);
                    json.WriteStartObject("function"u8);
                    json.WriteString("name"u8, name);
                    json.WriteString("arguments"u8, arguments);
                    json.WriteEndObject();
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            json.WriteEndObject();
            json.WriteString("finish_reason"u8, finish);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteStartObject("usage"u8);
            json.WriteNumber("prompt_tokens"u8, input);
            json.WriteNumber("completion_tokens"u8, output);
            json.WriteNumber("total_tokens"u8, input + output);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// An object whose keys the node tree would index as the fast path reads them: none escaped, none twice (the tree
    /// refuses a key twice, and compares keys unescaped). Declines anything but an object, and objects of more than 64 keys.
    /// </summary>
    private static bool Plain(JsonElement obj)
    {
        if (obj.ValueKind != JsonValueKind.Object) return false;
        var i = 0;
        foreach (var property in obj.EnumerateObject())
        {
            if (++i > 64) return false;
            var name = JsonMarshal.GetRawUtf8PropertyName(property);
            if (name.IndexOf((byte)'\\') >= 0) return false;
            var j = 0;
            foreach (var earlier in obj.EnumerateObject())
            {
                if (++j >= i) break;
                if (JsonMarshal.GetRawUtf8PropertyName(earlier).SequenceEqual(name)) return false;
            }
        }
        return true;
    }

    /// <summary>The member of an object (checked <see cref="Plain"/>), or an undefined element when there is none.</summary>
    private static JsonElement Member(JsonElement obj, ReadOnlySpan<byte> name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) ? value : default;

    /// <summary>The member's text, as <see cref="UntrustedJson.Text"/> reads it: null when it is no string; false for a string no .NET string holds.</summary>
    private static bool TryText(JsonElement obj, ReadOnlySpan<byte> name, out string? text)
    {
        text = null;
        var value = Member(obj, name);
        if (value.ValueKind != JsonValueKind.String) return true;
        try
        {
            text = value.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false; // a lone surrogate: the node tree keeps it as written
        }
    }

    private static bool Equals(JsonElement obj, ReadOnlySpan<byte> name, ReadOnlySpan<byte> expected) =>
        Member(obj, name) is { ValueKind: JsonValueKind.String } value && value.ValueEquals(expected);

    /// <summary>The <c>usage</c> member; false when it is an object the node tree would refuse to index.</summary>
    private static bool TryUsage(JsonElement answer, out JsonElement usage)
    {
        usage = Member(answer, "usage"u8);
        return usage.ValueKind != JsonValueKind.Object || Plain(usage);
    }

    /// <summary>A whole number that fits an int, as <see cref="UntrustedJson.Int32"/>; else 0.</summary>
    private static int Int32(JsonElement obj, ReadOnlySpan<byte> name) =>
        Member(obj, name) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt32(out var number) ? number : 0;
}
