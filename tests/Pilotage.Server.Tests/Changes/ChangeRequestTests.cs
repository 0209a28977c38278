using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Changes;

/// <summary>Change control past the pilot, end to end: a real server, the fake upstream, the gateway.</summary>
public sealed class ChangeRequestTests
{
    private const string System = GatewayHarness.System;
    private const string PromptA = "You draft polite replies to support tickets.";
    private const string PromptB = "You answer in pirate speak.";

    private const string Gate = """
          changeControl:
            regressionGate:
              testSet: refunds
              maxPassRateDrop: 0.1
        """;

    /// <summary>The harness system, moved to production (every signed-in person, full mode).</summary>
    internal static async Task<GatewayHarness> StartInProductionAsync(string risk = "low", string extra = "")
    {
        var harness = await GatewayHarness.StartAsync(extra: extra);
        if (risk != "low") await harness.Server.ApplyAsync(Spec(harness, PromptA, risk, extra));
        await MoveToProductionAsync(harness.Server);
        return harness;
    }

    /// <summary>
    /// Production through the store: proceeding needs evidence, pause rules and readiness answers that
    /// the lifecycle tests cover; here only "past its pilot" matters.
    /// </summary>
    internal static async Task MoveToProductionAsync(Pilotage.Testing.PilotageTestServer server, string system = System)
    {
        await using (var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext())
        {
            var row = await db.Systems.SingleAsync(s => s.Slug == system);
            row.Phase = "Production";
            row.Stage = 0;
            row.LastDecision = "Proceed";
            await db.SaveChangesAsync();
        }
        await server.App.Services.GetRequiredService<Pilotage.Server.Policy.PolicyCache>().RefreshAsync(CancellationToken.None);
    }

    private static string Spec(GatewayHarness harness, string prompt, string risk = "low", string extra = "") =>
        GatewayHarness.Spec(System, harness.Upstream.BaseUrl, "draft", extra)
            .Replace(PromptA, prompt, StringComparison.Ordinal)
            .Replace("risk: low", $"risk: {risk}", StringComparison.Ordinal);

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostYamlAsync(HttpClient client, string yaml)
    {
        using var response = await client.PostAsync("/api/v1/systems/apply", new StringContent(yaml, Encoding.UTF8, "application/yaml"));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static async Task<string> SentPromptAsync(GatewayHarness harness, HttpClient? client = null, string? evalHeader = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(GatewayHarness.ChatBody("Where is my refund?")) };
        if (evalHeader is not null) request.Headers.Add("x-pilotage-eval", evalHeader);
        using var response = await (client ?? harness.Member).SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return harness.Upstream.LastRequest["messages"]![0]!["content"]!.GetValue<string>();
    }

    private static async Task<long> RequestChangeAsync(GatewayHarness harness, string prompt, string risk = "low", string extra = "")
    {
        var (status, body) = await PostYamlAsync(harness.Owner, Spec(harness, prompt, risk, extra));
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");
        var result = body.GetProperty("results")[0];
        Assert.Equal("change_requested", result.GetProperty("action").GetString());
        Assert.Contains(result.GetProperty("changes").EnumerateArray(), c => c.GetProperty("path").GetString() == "spec.config.systemPrompt");
        return result.GetProperty("changeRequest").GetInt64();
    }

    [Fact]
    public async Task High_risk_change_needs_four_eyes_and_applying_it_puts_the_new_prompt_in_force_on_the_next_request()
    {
        await using var harness = await StartInProductionAsync(risk: "high");
        Assert.Equal(PromptA, await SentPromptAsync(harness));

        var id = await RequestChangeAsync(harness, PromptB, "high");
        // Requested, not in force.
        Assert.Equal(PromptA, await SentPromptAsync(harness));
        // The same spec again is the same request, not a second one.
        Assert.Equal(id, await RequestChangeAsync(harness, PromptB, "high"));

        var (early, earlyBody) = await PostAsync(harness.Owner, $"/api/v1/changes/{id}/apply", new { });
        Assert.Equal(HttpStatusCode.Conflict, early);
        Assert.Contains("not approved", earlyBody.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var (self, selfBody) = await PostAsync(harness.Owner, $"/api/v1/changes/{id}/approve", new { reason = "looks fine to me" });
        Assert.Equal(HttpStatusCode.Forbidden, self);
        Assert.Contains("four eyes", selfBody.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var (approved, approvedBody) = await PostAsync(harness.Server.Admin, $"/api/v1/changes/{id}/approve", new { reason = "reviewed the prompt" });
        Assert.True(approved == HttpStatusCode.OK, approvedBody.ToString());
        Assert.Equal("approved", approvedBody.GetProperty("status").GetString());
        Assert.NotEqual("owner@example.org", approvedBody.GetProperty("decidedBy").GetString());
        Assert.Equal(PromptA, await SentPromptAsync(harness));

        var (applied, appliedBody) = await PostAsync(harness.Owner, $"/api/v1/changes/{id}/apply", new { });
        Assert.True(applied == HttpStatusCode.OK, appliedBody.ToString());
        Assert.Equal("applied", appliedBody.GetProperty("status").GetString());
        Assert.Equal(2, appliedBody.GetProperty("appliedVersion").GetInt32());
        Assert.Equal(PromptB, await SentPromptAsync(harness));

        await using var db = harness.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var actions = await db.AuditEntries.AsNoTracking().Where(e => e.Subject == $"system:{System}" && e.Action.StartsWith("change.")).OrderBy(e => e.Sequence).Select(e => e.Action).ToListAsync();
        Assert.Equal(["change.requested", "change.approved", "change.applied"], actions);
        var version = await db.ConfigVersions.AsNoTracking().SingleAsync(v => v.Version == 2);
        Assert.Contains($"change request {id}", version.CreatedBy, StringComparison.Ordinal);

        // Rollback stays one immediate command, and the previous prompt is back on the next request.
        var (rolledBack, rollbackBody) = await PostAsync(harness.Owner, $"/api/v1/systems/{System}/rollback", new { reason = "customers disliked it" });
        Assert.True(rolledBack == HttpStatusCode.OK, rollbackBody.ToString());
        Assert.Equal(PromptA, await SentPromptAsync(harness));
    }

    [Fact]
    public async Task Low_risk_owner_may_approve_their_own_change_and_non_config_edits_apply_at_once()
    {
        await using var harness = await StartInProductionAsync();
        var yaml = Spec(harness, PromptB).Replace("purpose: Draft replies to support tickets", "purpose: Draft replies to support and billing tickets", StringComparison.Ordinal);
        var (status, body) = await PostYamlAsync(harness.Owner, yaml);
        Assert.Equal(HttpStatusCode.Accepted, status);
        var id = body.GetProperty("results")[0].GetProperty("changeRequest").GetInt64();
        using (var system = await harness.Server.Admin.GetAsync($"/api/v1/systems/{System}"))
        {
            var detail = JsonDocument.Parse(await system.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Draft replies to support and billing tickets", detail.GetProperty("purpose").GetString());
            Assert.Equal(1, detail.GetProperty("system").GetProperty("configVersion").GetInt32());
        }
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(harness.Owner, $"/api/v1/changes/{id}/approve", new { })).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(harness.Owner, $"/api/v1/changes/{id}/apply", new { })).Status);
        Assert.Equal(PromptB, await SentPromptAsync(harness));

        using var list = await harness.Server.Admin.GetAsync($"/api/v1/systems/{System}/changes");
        var changes = JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("applied", changes[0].GetProperty("status").GetString());
        Assert.Equal("spec.config.systemPrompt", changes[0].GetProperty("diff")[0].GetProperty("path").GetString());
    }

    [Fact]
    public async Task Regression_gate_refuses_a_candidate_whose_pass_rate_drops_too_far_and_lets_a_good_one_through()
    {
        await using var harness = await StartInProductionAsync(extra: Gate);
        // The configuration in force: 4 of 4 cases pass.
        await RunEvalAsync(harness, change: null, verdicts: ["pass", "pass", "pass", "pass"]);

        var id = await RequestChangeAsync(harness, PromptB, extra: Gate);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(harness.Server.Admin, $"/api/v1/changes/{id}/approve", new { })).Status);

        var (missing, missingBody) = await PostAsync(harness.Owner, $"/api/v1/changes/{id}/apply", new { });
        Assert.Equal(HttpStatusCode.Conflict, missing);
        Assert.Contains($"--change {id}", missingBody.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The candidate's cases go through the gateway with the candidate prompt; real traffic keeps the prompt in force.
        var worse = await RunEvalAsync(harness, change: id, verdicts: ["pass", "pass", "fail", "fail"]);
        Assert.Equal(PromptB, worse.SentPrompt);
        Assert.Equal(PromptA, await SentPromptAsync(harness));

        var (refused, refusedBody) = await PostAsync(harness.Owner, $"/api/v1/changes/{id}/apply", new { });
        Assert.True(refused == HttpStatusCode.Conflict, refusedBody.ToString());
        Assert.Contains("pass_rate", refusedBody.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var gate = refusedBody.GetProperty("gate");
        Assert.Equal(1.0, gate.GetProperty("baselinePassRate").GetDouble(), 6);
        Assert.Equal(0.5, gate.GetProperty("candidatePassRate").GetDouble(), 6);
        Assert.False(gate.GetProperty("passed").GetBoolean());
        Assert.Equal(PromptA, await SentPromptAsync(harness));
        using (var shown = await harness.Server.Admin.GetAsync($"/api/v1/changes/{id}"))
        {
            var view = JsonDocument.Parse(await shown.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("approved", view.GetProperty("status").GetString());
            Assert.False(view.GetProperty("gate").GetProperty("passed").GetBoolean());
        }
        await using (var db = harness.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext())
        {
            Assert.True(await db.AuditEntries.AnyAsync(e => e.Action == "change.gate_refused"));
        }

        // A fixed candidate, evaluated again: 4 of 4, no drop.
        await RunEvalAsync(harness, change: id, verdicts: ["pass", "pass", "pass", "pass"]);
        var (ok, okBody) = await PostAsync(harness.Owner, $"/api/v1/changes/{id}/apply", new { });
        Assert.True(ok == HttpStatusCode.OK, okBody.ToString());
        Assert.True(okBody.GetProperty("gate").GetProperty("passed").GetBoolean());
        Assert.Equal(PromptB, await SentPromptAsync(harness));
    }

    [Fact]
    public async Task Metrics_by_version_show_each_config_version_side_by_side()
    {
        await using var harness = await StartInProductionAsync();
        await SentPromptAsync(harness);
        var id = await RequestChangeAsync(harness, PromptB);
        await PostAsync(harness.Owner, $"/api/v1/changes/{id}/approve", new { });
        await PostAsync(harness.Owner, $"/api/v1/changes/{id}/apply", new { });
        await SentPromptAsync(harness);
        await SentPromptAsync(harness);

        using var response = await harness.Server.Admin.GetAsync($"/api/v1/systems/{System}/metrics/versions");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var versions = JsonDocument.Parse(body).RootElement.EnumerateArray().ToList();
        Assert.Equal([1, 2], versions.Select(v => v.GetProperty("configVersion").GetInt32()));
        Assert.True(versions[1].GetProperty("current").GetBoolean());
        // Served requests count per version: 1 on version 1 (plus the pilot's none), 2 on version 2.
        Assert.Equal(1, versions[0].GetProperty("metrics").GetProperty("error_rate").GetProperty("n").GetInt64());
        Assert.Equal(2, versions[1].GetProperty("metrics").GetProperty("error_rate").GetProperty("n").GetInt64());
    }

    [Fact]
    public async Task Reject_and_withdraw_close_a_request_and_a_stale_request_cannot_be_applied()
    {
        await using var harness = await StartInProductionAsync();
        var first = await RequestChangeAsync(harness, PromptB);
        var (noReason, _) = await PostAsync(harness.Server.Admin, $"/api/v1/changes/{first}/reject", new { });
        Assert.Equal(HttpStatusCode.BadRequest, noReason);
        var (rejected, rejectedBody) = await PostAsync(harness.Server.Admin, $"/api/v1/changes/{first}/reject", new { reason = "not now" });
        Assert.True(rejected == HttpStatusCode.OK, rejectedBody.ToString());
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(harness.Owner, $"/api/v1/changes/{first}/approve", new { })).Status);

        var second = await RequestChangeAsync(harness, PromptB);
        Assert.NotEqual(first, second);
        var third = await RequestChangeAsync(harness, "You answer briefly.");
        await PostAsync(harness.Owner, $"/api/v1/changes/{second}/approve", new { });
        await PostAsync(harness.Owner, $"/api/v1/changes/{third}/approve", new { });
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(harness.Owner, $"/api/v1/changes/{second}/apply", new { })).Status);
        var (stale, staleBody) = await PostAsync(harness.Owner, $"/api/v1/changes/{third}/apply", new { });
        Assert.Equal(HttpStatusCode.Conflict, stale);
        Assert.Contains("changed since", staleBody.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var (withdrawn, withdrawnBody) = await PostAsync(harness.Owner, $"/api/v1/changes/{third}/withdraw", new { reason = "superseded" });
        Assert.True(withdrawn == HttpStatusCode.OK, withdrawnBody.ToString());
        Assert.Equal("withdrawn", withdrawnBody.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(harness.Owner, "/api/v1/changes/999/approve", new { })).Status);
    }

    [Fact]
    public async Task Change_requests_notify_the_webhook_when_requested_approved_and_applied()
    {
        // Nothing listens on port 9: deliveries stay pending, which is all this test looks at.
        var harness = await GatewayHarness.StartAsync(configure: o => o with { Webhook = new Pilotage.Server.Notifications.WebhookOptions { Url = "http://127.0.0.1:9/hook" } });
        await using var _ = harness;
        await MoveToProductionAsync(harness.Server);
        var id = await RequestChangeAsync(harness, PromptB);
        await PostAsync(harness.Owner, $"/api/v1/changes/{id}/approve", new { });
        await PostAsync(harness.Owner, $"/api/v1/changes/{id}/apply", new { });
        await using var db = harness.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var events = await db.WebhookDeliveries.AsNoTracking().Where(w => w.Event.StartsWith("change.")).OrderBy(w => w.Id).Select(w => w.Event).ToListAsync();
        Assert.Equal(["change.requested", "change.approved", "change.applied"], events);
    }

    [Fact]
    public async Task During_the_pilot_a_config_change_applies_at_once()
    {
        await using var harness = await GatewayHarness.StartAsync();
        var (status, body) = await PostYamlAsync(harness.Owner, Spec(harness, PromptB));
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("updated", body.GetProperty("results")[0].GetProperty("action").GetString());
        Assert.Equal(PromptB, await SentPromptAsync(harness));
    }

    private sealed record EvalOutcome(long Run, string SentPrompt);

    /// <summary>An evaluation the way `pilotage eval` runs it: start, one case through the gateway, verdicts, finish.</summary>
    private static async Task<EvalOutcome> RunEvalAsync(GatewayHarness harness, long? change, string[] verdicts)
    {
        var (status, started) = await PostAsync(harness.Owner, $"/api/v1/systems/{System}/evals", new { testSet = "refunds", testSetHash = "same-file", cases = verdicts.Length, change });
        Assert.True(status == HttpStatusCode.Created, started.ToString());
        var run = started.GetProperty("id").GetInt64();
        var prompt = await SentPromptAsync(harness, harness.Owner, $"run={run};case=c0;category=normal");
        var results = verdicts.Select((v, i) => new { caseId = $"c{i}", category = "normal", verdict = v }).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(harness.Owner, $"/api/v1/evals/{run}/results", new { results })).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(harness.Owner, $"/api/v1/evals/{run}/finish", new { status = "completed" })).Status);
        return new EvalOutcome(run, prompt);
    }
}
