// Drafts a reply through Pilotage with the official OpenAI SDK.
//   PILOTAGE_KEY=plt_… dotnet run -- "Where is my order 4711?"
// PILOTAGE_BASE_URL defaults to http://127.0.0.1:5080/v1 (what 'pilotage serve' listens on).
using DraftReply;
using OpenAI.Chat;

var baseUrl = new Uri(Environment.GetEnvironmentVariable("PILOTAGE_BASE_URL") ?? PilotageChat.DefaultBaseUrl);
var key = Environment.GetEnvironmentVariable("PILOTAGE_KEY")
    ?? throw new InvalidOperationException("set PILOTAGE_KEY to your Pilotage key ('pilotage keys create --user you@example.org')");
var ticket = args.Length > 0 ? string.Join(' ', args) : "Where is my order 4711?";

ChatClient chat = PilotageChat.Create(baseUrl, key);
ChatCompletion completion = await chat.CompleteChatAsync(
    new SystemChatMessage("Reply in English."),
    new UserChatMessage(ticket));
Console.WriteLine(completion.Content[0].Text);

// Streaming works the same way.
await foreach (var update in chat.CompleteChatStreamingAsync(new UserChatMessage(ticket)))
{
    foreach (var part in update.ContentUpdate) Console.Write(part.Text);
}
Console.WriteLine();
