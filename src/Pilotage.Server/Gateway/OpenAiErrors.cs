using System.Text.Json;
using Pilotage.Core.Gateway;

namespace Pilotage.Server.Gateway;

/// <summary>Refusals and faults in the OpenAI error shape, so every OpenAI client shows the message as is.</summary>
public static class OpenAiErrors
{
    public const string InteractionHeader = "x-pilotage-interaction-id";
    public const string ModeHeader = "x-pilotage-mode";

    // Messages are for people: keep quotes and apostrophes readable instead of \u0027 escapes.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Task WriteAsync(HttpContext context, GatewayRefusal refusal, string? interactionId, string mode) =>
        context.Response.HasStarted ? Task.CompletedTask : WriteJsonAsync(context, refusal.Status, Serialize(refusal), interactionId, mode);

    /// <summary>A whole JSON body (an answer, a held answer, a refusal) with the gateway's headers.</summary>
    public static async Task WriteJsonAsync(HttpContext context, int status, byte[] body, string? interactionId, string mode)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        // The length is known: without it Kestrel frames the body in chunks, and its closing chunk costs a
        // second write to the socket (a send, and a wake-up of the client) for every answer and refusal.
        context.Response.ContentLength = body.Length;
        SetHeaders(context, interactionId, mode);
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    public static void SetHeaders(HttpContext context, string? interactionId, string mode)
    {
        if (interactionId is not null) context.Response.Headers[InteractionHeader] = interactionId;
        context.Response.Headers[ModeHeader] = mode;
    }

    public static byte[] Serialize(GatewayRefusal refusal)
    {
        using var buffer = new MemoryStream(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            WriteError(writer, refusal);
        }
        return buffer.ToArray();
    }

    /// <summary>An SSE event carrying an error, for faults after a stream has started.</summary>
    public static byte[] StreamEvent(GatewayRefusal refusal)
    {
        using var buffer = new MemoryStream(256);
        buffer.Write("data: "u8);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            WriteError(writer, refusal);
        }
        buffer.Write("\n\n"u8);
        return buffer.ToArray();
    }

    private static void WriteError(Utf8JsonWriter writer, GatewayRefusal refusal)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("message", refusal.Message);
        writer.WriteString("type", refusal.Type);
        writer.WriteString("code", refusal.Code);
        writer.WriteNull("param");
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
