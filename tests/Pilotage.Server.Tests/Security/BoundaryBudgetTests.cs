using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// A custom data-boundary pattern that backtracks catastrophically (its look-ahead keeps it off the linear engine) is
/// bounded per match (100 ms), but a request can hold many texts: 100 messages would each run it to its bound, 10 s of
/// a server thread for one request. The request budget refuses it instead. The pattern is exponential in its input,
/// so it reaches the budget on any machine; the refusal's code says the budget, not the timeouts, stopped it.
/// </summary>
public sealed class BoundaryBudgetTests
{
    private const string Boundary = """
          dataBoundary:
            redact: [ticket, email]
            detectors:
              - name: ticket
                pattern: '(a+)+(?=b)'
        """;

    [Fact]
    public async Task A_request_whose_patterns_exceed_the_budget_is_refused_within_it_and_nothing_is_sent()
    {
        var budget = TimeSpan.FromMilliseconds(400);
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: Boundary, configure: o => o with { DataBoundaryBudget = budget });
        // Each message makes the pattern run to its 100 ms per-match timeout.
        var messages = Enumerable.Range(0, 100).Select(i => new { role = "user", content = new string('a', 5_000) + "!" }).ToArray();

        foreach (var endpoint in new[] { "chat", "embeddings" })
        {
            object body = endpoint == "chat"
                ? new { model = GatewayHarness.System, messages }
                : new { model = GatewayHarness.System, input = messages.Select(m => m.content).ToArray() };
            var response = await h.Member.PostAsJsonAsync(endpoint == "chat" ? "/v1/chat/completions" : "/v1/embeddings", body);
            var text = await response.Content.ReadAsStringAsync();

            Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{endpoint}: {(int)response.StatusCode} {text}");
            var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
            Assert.Equal("boundary_budget_exceeded", error.GetProperty("code").GetString());
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.Contains("detector 'ticket'", error.GetProperty("message").GetString(), StringComparison.Ordinal);

            var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
            Assert.Equal(("refused", "boundary_budget_exceeded"), (record.Outcome, record.RefusalCode));
            Assert.Contains("\"ticket\":{\"count\":", record.DetectorHits, StringComparison.Ordinal);
            Assert.Null(record.RequestContent);
        }
        Assert.Empty(h.Upstream.Received);

        // An ordinary request to the same system goes through, redacted.
        var ordinary = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("please write to lee@example.com about order 55"));
        Assert.Equal(HttpStatusCode.OK, ordinary.StatusCode);
        Assert.Contains("[REDACTED:email]", h.Upstream.LastRequest.ToJsonString(), StringComparison.Ordinal);
    }
}
