using System.Text.Json.Nodes;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Evidence;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Gateway.Protocols.Responses;

/// <summary>
/// Responses kept by Pilotage, for upstreams that keep no conversation state (any chat-completions server): a
/// response is its interaction's evidence record, so <c>GET /v1/responses/{id}</c> reads it back and
/// <c>previous_response_id</c> continues its conversation. Only the person who asked continues it; they and
/// those who may read the system fetch it, as with <c>GET /v1/interactions/{id}</c>.
/// </summary>
internal sealed class StoredResponses(PilotageStore store, PolicyCache policy)
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    /// <summary>The messages of the conversation up to and including the previous response's answer, or the problem.</summary>
    public async Task<(IReadOnlyList<JsonObject> Messages, string? Problem)> ConversationAsync(string previousId, string model, KeyGrant key, CancellationToken ct)
    {
        var row = await FindAsync(previousId, ct);
        if (row is null || row.UserId != key.User.Id)
        {
            return ([], $"there is no response '{previousId}' of yours to continue; send the whole conversation as 'input' instead");
        }
        if (row.System != model) return ([], $"response '{previousId}' was answered by '{row.System}', not '{model}'; a conversation continues with the system that answered it");
        if (row.Outcome != InteractionOutcomes.Served) return ([], $"response '{previousId}' was {row.Outcome}, not served, so there is no answer to continue from; send the conversation as 'input'");
        if (row.RequestContent is null || row.ResponseContent is null)
        {
            return ([], $"'{row.System}' keeps only hashes of its evidence, so Pilotage cannot continue response '{previousId}'; send the whole conversation as 'input'");
        }
        var messages = new List<JsonObject>();
        try
        {
            // The earlier turns as they were sent, less their system messages: instructions are not carried over
            // (as in the API), and the system's own prompt is added again by its configuration.
            if (UntrustedJson.Member(JsonNode.Parse(row.RequestContent, documentOptions: ParseOptions), "messages") is JsonArray sent)
            {
                messages.AddRange(sent.OfType<JsonObject>().Where(m => UntrustedJson.Text(UntrustedJson.Member(m, "role")) != "system").Select(m => (JsonObject)m.DeepClone()));
            }
            messages.Add(AnswerMessage(row));
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            return ([], $"response '{previousId}' cannot be read back ({e.Message}); send the conversation as 'input'");
        }
        return (messages, null);
    }

    /// <summary>The record behind a response id, if the key may read it.</summary>
    public async Task<InteractionRow?> ReadableAsync(string responseId, KeyGrant key, CancellationToken ct)
    {
        var row = await FindAsync(responseId, ct);
        if (row is null) return null;
        var snapshot = policy.Current;
        return row.UserId == key.User.Id
            || (snapshot.Systems.TryGetValue(row.System, out var system)
                && SystemAccess.MayRead(new Person(key.User.Role, key.User.Email, key.User.Groups), system.State.Spec, system.State.PendingOwner))
            ? row
            : null;
    }

    /// <summary>The answer of a record as a chat completion (a streamed answer is kept as its text).</summary>
    public static JsonObject Completion(InteractionRow row) =>
        row.Streamed
            ? ChatChunks.Completion(row.Id, row.System, row.ResponseContent ?? "", row.CreatedAt)
            : JsonNode.Parse(row.ResponseContent ?? "{}", documentOptions: ParseOptions) as JsonObject ?? [];

    private static JsonObject AnswerMessage(InteractionRow row)
    {
        var completion = Completion(row);
        var choice = UntrustedJson.Member(completion, "choices") is JsonArray { Count: > 0 } choices ? choices[0] : null;
        return UntrustedJson.Member(choice, "message")?.DeepClone() as JsonObject
            ?? new JsonObject { ["role"] = "assistant", ["content"] = row.ResponseContent };
    }

    private async Task<InteractionRow?> FindAsync(string responseId, CancellationToken ct)
    {
        if (ResponsesAnswer.InteractionId(responseId) is not { } id) return null;
        await using var db = store.CreateDbContext();
        return await db.Interactions.AsNoTracking().SingleOrDefaultAsync(i => i.Id == id && i.Endpoint == InteractionEndpointNames.Chat, ct);
    }
}
