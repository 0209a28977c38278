using System.Diagnostics;
using System.Text.Json.Nodes;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// The official Node clients (openai <c>responses.create</c>, <c>@anthropic-ai/sdk</c> <c>messages.create</c>, plain and
/// streamed) against a real Pilotage server, for an upstream of each protocol: tests/node-clients/clients.mjs.
/// </summary>
public sealed class NodeClientTests
{
    [NodeClientsTheory]
    [InlineData("openai-chat")]
    [InlineData("openai-responses")]
    [InlineData("anthropic")]
    public async Task The_node_clients_get_governed_answers_and_each_call_is_recorded(string upstream)
    {
        Assert.True(Directory.Exists(Path.Combine(NodeClientsGate.Folder, "node_modules")), NodeClientsGate.SkipReason);
        await using var h = await UpstreamProtocolTests.StartAsync(upstream);
        var start = new ProcessStartInfo("node", "clients.mjs")
        {
            WorkingDirectory = NodeClientsGate.Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["PILOTAGE_URL"] = h.Server.Url,
                ["PILOTAGE_KEY"] = h.MemberKey,
                ["PILOTAGE_MODEL"] = GatewayHarness.System,
                ["EXPECTED_TEXT"] = h.Upstream.AnswerText,
            },
        };
        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            throw;
        }
        Assert.True(node.ExitCode == 0, $"node exited with {node.ExitCode}:\n{await errors}\n{await output}");

        var ids = JsonNode.Parse((await output).Trim().Split('\n')[^1])!.AsObject();
        Assert.Equal(["responses", "responsesStream", "messages", "messagesStream"], ids.Select(p => p.Key).ToArray());
        foreach (var (call, id) in ids)
        {
            var record = await h.InteractionAsync(id!.GetValue<string>());
            Assert.Equal(("chat", "served", call.EndsWith("Stream", StringComparison.Ordinal), 120, 40), (record.Endpoint, record.Outcome, record.Streamed, record.TokensIn, record.TokensOut));
            Assert.Contains("Can I get a refund?", record.RequestContent, StringComparison.Ordinal);
            Assert.Contains(h.Upstream.AnswerText, record.ResponseContent, StringComparison.Ordinal);
        }
    }
}
