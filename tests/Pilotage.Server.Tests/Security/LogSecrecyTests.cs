using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.Logging;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// Keys, upstream secrets, prompts and the personal data in them never reach the logs, at the most
/// verbose level, across served, streamed, refused, failed and malformed requests.
/// </summary>
public class LogSecrecyTests
{
    private const string Prompt = "ZEBRA-PROMPT-7731 please refund order 55";
    private const string Card = "4111 1111 1111 1111";
    private const string UpstreamSecret = "sk-upstream-SECRET-9f8e7d6c5b4a";
    private const string EnvName = "LOG_SECRECY_TEST_API_KEY";

    [Fact]
    public async Task No_key_secret_prompt_or_card_number_is_logged()
    {
        Environment.SetEnvironmentVariable(EnvName, UpstreamSecret);
        var logs = new CapturingLoggerProvider();
        var memberKey = "";
        try
        {
            await using var h = await GatewayHarness.StartAsync(configure: o => o with { LogLevel = LogLevel.Trace, LoggerProviders = [logs] });
            memberKey = h.MemberKey;
            var spec = GatewayHarness.Spec(GatewayHarness.System, h.Upstream.BaseUrl, "draft", "  dataBoundary:\n    redact: [credit_card]")
                .Replace("    model: fake-model", $"    model: fake-model\n    apiKeyEnv: {EnvName}", StringComparison.Ordinal);
            await h.Server.ApplyAsync(spec);
            var withCard = $"{Prompt}, card {Card}";

            Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(withCard))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(withCard, stream: true))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/embeddings", new { model = GatewayHarness.System, input = withCard })).StatusCode);
            h.Upstream.Behaviour = UpstreamBehaviour.ServerError;
            Assert.Equal(HttpStatusCode.BadGateway, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(withCard))).StatusCode);
            h.Upstream.Behaviour = UpstreamBehaviour.TruncatedStream;
            await (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(withCard, stream: true))).Content.ReadAsStringAsync();
            h.Upstream.Behaviour = UpstreamBehaviour.Answer;
            using (var malformed = new StringContent("{\"model\":\"" + GatewayHarness.System + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + withCard + "\"", Encoding.UTF8, "application/json"))
            {
                Assert.Equal(HttpStatusCode.BadRequest, (await h.Member.PostAsync("/v1/chat/completions", malformed)).StatusCode);
            }
            // A key that is almost right, and the right key sent to the control API.
            var wrong = h.Server.ClientFor(h.MemberKey[..^4] + "zzzz");
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(withCard))).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await h.Member.GetAsync("/api/v1/users")).StatusCode);

            Assert.Equal("Bearer " + UpstreamSecret, h.Upstream.Authorizations.Last());
            Assert.Contains(h.Upstream.Received, r => r.ToJsonString().Contains("ZEBRA-PROMPT-7731", StringComparison.Ordinal));
        }
        finally
        {
            Environment.SetEnvironmentVariable(EnvName, null);
        }

        var lines = logs.Lines.ToArray();
        Assert.True(lines.Length > 20, $"only {lines.Length} log lines were captured: the capture is not wired");
        string[] secrets = [memberKey, UpstreamSecret, "ZEBRA-PROMPT-7731", Card, Card.Replace(" ", "", StringComparison.Ordinal), PilotageTestServer.AdminToken];
        foreach (var secret in secrets.Where(s => s.Length > 0))
        {
            var leak = lines.FirstOrDefault(l => l.Contains(secret, StringComparison.Ordinal));
            Assert.True(leak is null, $"'{secret}' was logged: {leak}");
        }
    }
}
