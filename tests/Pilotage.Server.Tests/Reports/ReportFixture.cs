using System.Net.Http.Json;
using System.Text.Json;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Reports;

/// <summary>
/// One system in pilot with real evidence, made the way it is in use: drafts served through the
/// gateway from a loopback upstream and reviewed, a request refused by the data boundary, an
/// evaluation run over three categories, a complaint whose title holds markup, and a pause and resume.
/// </summary>
public sealed class ReportFixture : IAsyncLifetime
{
    public const string System = GatewayHarness.System;

    /// <summary>Pilot criteria, a spec baseline below the review time (so the AI costs time), a pause rule and a data boundary.</summary>
    public const string Extra = """
            minSamples: 2
            questions: [quality, review_burden, value]
            criteria:
              - { metric: acceptance_rate, min: 0.8, else: redesign }
              - { metric: net_minutes_saved_per_task, min: 1, else: stop }
              - { metric: incidents_high, max: 0, else: stop }
              - { metric: pass_rate.edge, min: 0.7, else: narrow }
          baseline:
            manualMinutesPerTask: 0.5
          dataBoundary:
            block: [credit_card]
          pauseRules:
            - { metric: rejection_rate, over: 50, above: 0.9, action: restrict, to: approval }
        """;

    public const string ComplaintTitle = "<script>alert('x')</script> Refund & reply were wrong";

    public GatewayHarness Harness { get; private set; } = null!;
    public HttpClient Admin => Harness.Server.Admin;
    public HttpClient Owner => Harness.Owner;
    public IReadOnlyList<string> Served { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Harness = await GatewayHarness.StartAsync("draft", Extra);
        var served = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var response = await Harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody($"Where is my order {i}?"));
            response.EnsureSuccessStatusCode();
            served.Add(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        }
        Served = served;
        // 60 s and 120 s of review against a 0.5 min baseline: −1 min per task.
        await ReviewAsync(served[0], new { outcome = "accepted", seconds = 60 });
        await ReviewAsync(served[1], new { outcome = "edited", finalText = "Thank you. We will refund the order within 3 days.", seconds = 120 });

        var refused = await Harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Refund card 4111 1111 1111 1111 please"));
        if ((int)refused.StatusCode != 422) throw new InvalidOperationException($"expected a data boundary refusal, got {(int)refused.StatusCode}");
        await Harness.InteractionAsync(refused.Headers.GetValues("x-pilotage-interaction-id").Single());

        var run = await PostAsync(Admin, $"/api/v1/systems/{System}/evals", new { testSet = "support.yaml", testSetHash = new string('a', 64), cases = 4 });
        var runId = run.GetProperty("id").GetInt64();
        await PostAsync(Admin, $"/api/v1/evals/{runId}/results", new
        {
            results = new object[]
            {
                new { caseId = "n1", category = "normal", verdict = "pass" },
                new { caseId = "n2", category = "normal", verdict = "pass" },
                new { caseId = "e1", category = "edge", verdict = "fail", reason = "promised a refund" },
                new { caseId = "u1", category = "unclear", verdict = "pass" },
            },
        });
        await PostAsync(Admin, $"/api/v1/evals/{runId}/finish", new { status = "completed" });

        await PostAsync(Harness.Member, "/api/v1/incidents", new { system = System, kind = "complaint", severity = "low", title = ComplaintTitle });
        await PostAsync(Owner, $"/api/v1/systems/{System}/pause", new { reason = "checking a <b>complaint</b>" });
        await PostAsync(Owner, $"/api/v1/systems/{System}/resume", new { reason = "complaint understood" });
    }

    private async Task ReviewAsync(string id, object body) => await PostAsync(Admin, $"/api/v1/interactions/{id}/review", body);

    public static async Task<JsonElement> PostAsync(HttpClient client, string path, object body)
    {
        var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {text}");
        using var doc = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
        return doc.RootElement.Clone();
    }

    public async Task<(string Body, HttpResponseMessage Response)> ReportAsync(string format, HttpClient? client = null)
    {
        var response = await (client ?? Admin).GetAsync($"/api/v1/systems/{System}/report?format={format}");
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"report {format}: {(int)response.StatusCode} {body}");
        return (body, response);
    }

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}
