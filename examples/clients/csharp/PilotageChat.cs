using System.ClientModel;
using OpenAI;
using OpenAI.Chat;

namespace DraftReply;

/// <summary>
/// The official OpenAI .NET SDK pointed at Pilotage. Nothing else changes in an app: the base URL is
/// Pilotage's gateway (ending in /v1), the key is the person's Pilotage key, and the model is the AI
/// system's name from its spec (metadata.name).
/// </summary>
public static class PilotageChat
{
    public const string DefaultBaseUrl = "http://127.0.0.1:5080/v1";
    public const string System = "support-reply-drafts";

    public static ChatClient Create(Uri baseUrl, string pilotageKey, string system = System) =>
        new OpenAIClient(new ApiKeyCredential(pilotageKey), new OpenAIClientOptions { Endpoint = baseUrl })
            .GetChatClient(system);
}
