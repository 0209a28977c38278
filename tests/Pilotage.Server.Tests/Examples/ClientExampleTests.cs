using System.Text.RegularExpressions;
using System.Xml.Linq;
using DraftReply;
using OpenAI.Chat;
using Pilotage.Server.Hosting;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Examples;

/// <summary>
/// examples/clients/: the official OpenAI SDKs used unchanged, only the base URL and the key differ.
/// The C# example's code runs against a real server; the Python and JavaScript ones are checked for
/// the same base URL, key variable and model (this machine has neither SDK).
/// </summary>
public sealed partial class ClientExampleTests
{
    [Fact]
    public async Task The_csharp_example_drafts_a_reply_through_the_gateway_streaming_and_not()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        var chat = PilotageChat.Create(new Uri(h.Server.Url + "/v1"), h.MemberKey, GatewayHarness.System);

        ChatCompletion completion = await chat.CompleteChatAsync(new UserChatMessage("Where is my order 4711?"));
        Assert.Equal(h.Upstream.AnswerText, completion.Content[0].Text);
        // The gateway swapped the system's name for the upstream model of its spec.
        Assert.Equal("fake-model", h.Upstream.LastRequest["model"]!.GetValue<string>());

        var streamed = new System.Text.StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync(new UserChatMessage("Where is my order 4712?")))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
        }
        Assert.Equal(h.Upstream.AnswerText, streamed.ToString());
    }

    [Fact]
    public void Every_example_uses_the_gateway_address_a_pilotage_key_and_an_example_system_as_model()
    {
        var gateway = PilotageServerOptions.DefaultUrls + "/v1";
        Assert.Equal(PilotageChat.DefaultBaseUrl, gateway);
        var systems = Directory.GetFiles(RepoPaths.Examples(""), "*.yaml")
            .Select(f => MetadataName().Match(File.ReadAllText(f)).Groups[1].Value)
            .ToHashSet(StringComparer.Ordinal);
        Assert.Contains(PilotageChat.System, systems);

        var clients = Path.Combine(RepoPaths.Examples("clients"));
        var snippets = new Dictionary<string, string>
        {
            ["python/draft_reply.py"] = "from openai import OpenAI",
            ["javascript/draft-reply.mjs"] = "import OpenAI from \"openai\"",
            ["csharp/Program.cs"] = "PilotageChat.Create(baseUrl, key)",
        };
        foreach (var (file, official) in snippets)
        {
            var text = File.ReadAllText(Path.Combine(clients, file));
            Assert.Contains(official, text, StringComparison.Ordinal);
            Assert.Contains("PILOTAGE_KEY", text, StringComparison.Ordinal);
            Assert.True(text.Contains(gateway, StringComparison.Ordinal) || text.Contains("PilotageChat.DefaultBaseUrl", StringComparison.Ordinal), $"{file} does not default to {gateway}");
            foreach (Match model in ModelName().Matches(text)) Assert.Contains(model.Groups[1].Value, systems);
        }

        // The standalone C# project pins the SDK version the tests use.
        var version = XDocument.Load(Path.Combine(RepoPaths.Root, "Directory.Packages.props")).Descendants("PackageVersion")
            .Single(e => (string?)e.Attribute("Include") == "OpenAI").Attribute("Version")!.Value;
        var project = XDocument.Load(Path.Combine(clients, "csharp", "DraftReply.csproj")).Descendants("PackageReference")
            .Single(e => (string?)e.Attribute("Include") == "OpenAI").Attribute("Version")!.Value;
        Assert.Equal(version, project);
    }

    [GeneratedRegex(@"metadata:\s*(?:\{\s*)?\n?\s*name:\s*([a-z0-9-]+)")]
    private static partial Regex MetadataName();

    [GeneratedRegex(@"model[=:]\s*[""']([a-z0-9-]+)[""']")]
    private static partial Regex ModelName();
}
