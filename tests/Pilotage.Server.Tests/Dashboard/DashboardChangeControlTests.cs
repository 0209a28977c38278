using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Pilotage.Server.Tests.Changes;
using Pilotage.Server.Tests.Gateway;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Dashboard;

/// <summary>
/// Change requests, ownership and legal hold on the system page, over plain HTTP: what each role sees,
/// what each form does, and the refusals the API would give (four eyes, only the proposed owner accepts).
/// </summary>
public sealed class DashboardChangeControlTests
{
    private const string System = GatewayHarness.System;
    private const string PromptA = "You draft polite replies to support tickets.";

    private static string Page => $"/dashboard/systems/{System}";

    private static async Task<DashboardFixture.Session> SignInAsync(GatewayHarness harness, string token)
    {
        var session = new DashboardFixture.Session(harness.Server.Url);
        var response = await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = token });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return session;
    }

    private static async Task<long> RequestChangeAsync(GatewayHarness harness, string prompt)
    {
        var yaml = GatewayHarness.Spec(System, harness.Upstream.BaseUrl, "draft", "")
            .Replace(PromptA, prompt, StringComparison.Ordinal)
            .Replace("risk: low", "risk: high", StringComparison.Ordinal);
        using var response = await harness.Owner.PostAsync("/api/v1/systems/apply", new StringContent(yaml, Encoding.UTF8, "application/yaml"));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body.ToString());
        return body.GetProperty("results")[0].GetProperty("changeRequest").GetInt64();
    }

    private static async Task<string> StatusOfAsync(GatewayHarness harness, long id) =>
        (await harness.Server.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/changes/{id}")).GetProperty("status").GetString()!;

    [Fact]
    public async Task Change_requests_are_listed_open_first_and_approve_reject_apply_follow_four_eyes_and_the_role_matrix()
    {
        await using var harness = await ChangeRequestTests.StartInProductionAsync(risk: "high");
        var id = await RequestChangeAsync(harness, "You answer in pirate speak.");
        var auditorKey = await harness.Server.CreateUserWithKeyAsync("audrey@example.org", "auditor");
        var ownerKey = await harness.Server.CreateKeyAsync("owner@example.org");

        using var owner = await SignInAsync(harness, ownerKey);
        var html = await owner.Client.GetStringAsync(Page);
        Assert.True(html.Contains($"id=\"change-{id}\"", StringComparison.Ordinal), html);
        Assert.Contains("spec.config.systemPrompt", html, StringComparison.Ordinal);
        Assert.Contains("pirate speak", html, StringComparison.Ordinal);
        Assert.Contains("high risk: four eyes", html, StringComparison.Ordinal);
        Assert.Contains($"handler=Approve&amp;id={id}", html, StringComparison.Ordinal);
        Assert.DoesNotContain("will be listed here", html, StringComparison.Ordinal);

        // An auditor reads the request but has no form, and a forged post is refused with the permission it needs.
        using var auditor = await SignInAsync(harness, auditorKey);
        var auditorHtml = await auditor.Client.GetStringAsync(Page);
        Assert.Contains($"id=\"change-{id}\"", auditorHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("handler=Approve", auditorHtml, StringComparison.Ordinal);
        var refused = await auditor.PostFormAsync($"{Page}?handler=Approve&id={id}", new() { ["reason"] = "fine" }, Page);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("SystemsOperate", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Four eyes: the owner who requested it cannot approve it on a high-risk system; the page says why.
        var self = await owner.PostFormAsync($"{Page}?handler=Approve&id={id}", new() { ["reason"] = "mine" }, Page);
        Assert.Equal(HttpStatusCode.Forbidden, self.StatusCode);
        var selfHtml = await self.Content.ReadAsStringAsync();
        Assert.Contains("four eyes", selfHtml, StringComparison.Ordinal);
        Assert.Contains("class=\"alert bad\"", selfHtml, StringComparison.Ordinal);
        Assert.Equal("open", await StatusOfAsync(harness, id));

        // Applying before approval is refused; the admin approves; the owner applies.
        var early = await owner.PostFormAsync($"{Page}?handler=Apply&id={id}", [], Page);
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        using var admin = await SignInAsync(harness, PilotageTestServer.AdminToken);
        var approved = await admin.PostFormAsync($"{Page}?handler=Approve&id={id}", new() { ["reason"] = "reviewed the prompt" }, Page);
        Assert.Equal(HttpStatusCode.Redirect, approved.StatusCode);
        Assert.Equal("approved", await StatusOfAsync(harness, id));
        Assert.Contains($"handler=Apply&amp;id={id}", await owner.Client.GetStringAsync(Page), StringComparison.Ordinal);
        var applied = await owner.PostFormAsync($"{Page}?handler=Apply&id={id}", [], Page);
        Assert.Equal(HttpStatusCode.Redirect, applied.StatusCode);
        Assert.Equal("applied", await StatusOfAsync(harness, id));
        var after = await owner.Client.GetStringAsync(Page);
        Assert.Contains("applied by owner@example.org as v2", after, StringComparison.Ordinal);
        Assert.Contains("reviewed the prompt", after, StringComparison.Ordinal);
        Assert.Contains("id=\"version-metrics\"", after, StringComparison.Ordinal);
        Assert.Contains("v2 (current)", after, StringComparison.Ordinal);

        // Reject needs a reason, like the API; a rejected request goes below the open one.
        var second = await RequestChangeAsync(harness, "You answer in haiku.");
        var third = await RequestChangeAsync(harness, "You answer in limericks.");
        var noReason = await owner.PostFormAsync($"{Page}?handler=Reject&id={second}", [], Page);
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        Assert.Contains("a reason is required", await noReason.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var rejected = await owner.PostFormAsync($"{Page}?handler=Reject&id={second}", new() { ["reason"] = "haiku is too short" }, Page);
        Assert.Equal(HttpStatusCode.Redirect, rejected.StatusCode);
        Assert.Equal("rejected", await StatusOfAsync(harness, second));
        var listed = await owner.Client.GetStringAsync(Page);
        Assert.True(listed.IndexOf($"id=\"change-{third}\"", StringComparison.Ordinal) < listed.IndexOf($"id=\"change-{second}\"", StringComparison.Ordinal), "the open request is listed first");
        Assert.True(listed.IndexOf($"id=\"change-{second}\"", StringComparison.Ordinal) < listed.IndexOf($"id=\"change-{id}\"", StringComparison.Ordinal) || listed.Contains("haiku is too short", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Orphaned_handover_and_legal_hold_show_and_only_the_proposed_owner_and_auditors_may_act()
    {
        await using var harness = await ChangeRequestTests.StartInProductionAsync();
        var auditorKey = await harness.Server.CreateUserWithKeyAsync("audrey@example.org", "auditor");
        var noraKey = await harness.Server.CreateUserWithKeyAsync("nora@example.org", "owner");
        var ownerKey = await harness.Server.CreateKeyAsync("owner@example.org");
        using var admin = await SignInAsync(harness, PilotageTestServer.AdminToken);
        Assert.DoesNotContain("id=\"orphaned\"", await admin.Client.GetStringAsync(Page), StringComparison.Ordinal);

        // The owner's legal-hold post is refused (auditors and admins hold); an auditor places and releases one.
        using (var owner = await SignInAsync(harness, ownerKey))
        {
            Assert.DoesNotContain("id=\"hold-form\"", await owner.Client.GetStringAsync(Page), StringComparison.Ordinal);
            var refused = await owner.PostFormAsync($"{Page}?handler=Hold", new() { ["reason"] = "mine" }, Page);
            Assert.True(refused.StatusCode == HttpStatusCode.Forbidden, await refused.Content.ReadAsStringAsync());
            Assert.Contains("LegalHold", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using var auditor = await SignInAsync(harness, auditorKey);
        Assert.Equal(HttpStatusCode.BadRequest, (await auditor.PostFormAsync($"{Page}?handler=Hold", [], Page)).StatusCode);
        var held = await auditor.PostFormAsync($"{Page}?handler=Hold", new() { ["reason"] = "Matter 2026-17: refund complaints" }, Page);
        Assert.Equal(HttpStatusCode.Redirect, held.StatusCode);
        var heldHtml = await admin.Client.GetStringAsync(Page);
        Assert.Contains("Matter 2026-17: refund complaints", heldHtml, StringComparison.Ordinal);
        Assert.Contains("by audrey@example.org", heldHtml, StringComparison.Ordinal);
        Assert.Contains("legal hold", await admin.Client.GetStringAsync("/dashboard"), StringComparison.Ordinal);
        var released = await auditor.PostFormAsync($"{Page}?handler=Release", [], Page);
        Assert.Equal(HttpStatusCode.Redirect, released.StatusCode);
        Assert.Contains("No legal hold.", await admin.Client.GetStringAsync(Page), StringComparison.Ordinal);

        // The owner leaves: orphaned on the system page and the portfolio.
        using (var deactivated = await harness.Server.Admin.PatchAsJsonAsync("/api/v1/users/owner@example.org", new { active = false }))
        {
            Assert.True(deactivated.IsSuccessStatusCode, await deactivated.Content.ReadAsStringAsync());
        }
        var orphanHtml = await admin.Client.GetStringAsync(Page);
        Assert.Contains("id=\"orphaned\"", orphanHtml, StringComparison.Ordinal);
        Assert.Contains("holds every answer of this system for approval", orphanHtml, StringComparison.Ordinal);
        Assert.Contains("orphaned", await admin.Client.GetStringAsync("/dashboard"), StringComparison.Ordinal);

        // A handover: shown to everyone, the Accept button only to the proposed owner; an admin's accept is refused.
        using (var proposed = await harness.Server.Admin.PostAsJsonAsync($"/api/v1/systems/{System}/handover", new { to = "nora@example.org", reason = "dana left the team" }))
        {
            Assert.True(proposed.IsSuccessStatusCode, await proposed.Content.ReadAsStringAsync());
        }
        var pendingHtml = await admin.Client.GetStringAsync(Page);
        Assert.Contains("Handover pending to <strong>nora@example.org</strong>", pendingHtml, StringComparison.Ordinal);
        Assert.Contains("dana left the team", pendingHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"accept-form\"", pendingHtml, StringComparison.Ordinal);
        var adminAccept = await admin.PostFormAsync($"{Page}?handler=Accept", [], Page);
        Assert.Equal(HttpStatusCode.Forbidden, adminAccept.StatusCode);
        Assert.Contains("only they can accept", await adminAccept.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var nora = await SignInAsync(harness, noraKey);
        Assert.Contains("id=\"accept-form\"", await nora.Client.GetStringAsync(Page), StringComparison.Ordinal);
        var accepted = await nora.PostFormAsync($"{Page}?handler=Accept", [], Page);
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        var ownedHtml = await nora.Client.GetStringAsync(Page);
        Assert.Contains("Owned by <strong>nora@example.org</strong>", ownedHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"orphaned\"", ownedHtml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_rollout_the_current_stage_shows_its_gate_as_the_expansion_decision_evaluates_it()
    {
        var rollout = $"  rollout:\n    - {{ name: team, groups: [{GatewayHarness.Group}], mode: draft, minDays: 14, minSamples: 50, gate: [{{ metric: acceptance_rate, min: 0.8 }}] }}\n    - {{ name: wider, groups: [support-leads], mode: full }}\n";
        await using var harness = await GatewayHarness.StartAsync(extra: rollout);
        await using (var db = harness.Server.App.Services.GetRequiredService<Pilotage.Server.Storage.PilotageStore>().CreateDbContext())
        {
            await db.Database.ExecuteSqlRawAsync($"UPDATE ai_systems SET phase = 'Rollout', stage = 0, last_decision = 'Proceed' WHERE slug = '{System}'");
        }
        await harness.Server.App.Services.GetRequiredService<Pilotage.Server.Policy.PolicyCache>().RefreshAsync(CancellationToken.None);

        // The expansion decision refuses with the gate's reasons; the page shows the same gate.
        using var expand = await harness.Server.Admin.PostAsJsonAsync($"/api/v1/systems/{System}/decisions", new { outcome = "expand", reason = "more people" });
        Assert.Equal(HttpStatusCode.Conflict, expand.StatusCode);
        var detail = JsonDocument.Parse(await expand.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString()!;
        using var admin = await SignInAsync(harness, PilotageTestServer.AdminToken);
        var html = WebUtility.HtmlDecode(await admin.Client.GetStringAsync(Page));
        Assert.Contains("id=\"stage-gate\"", html, StringComparison.Ordinal);
        Assert.Contains("gate closed", html, StringComparison.Ordinal);
        Assert.Contains(", minimum 14", html, StringComparison.Ordinal);
        Assert.DoesNotContain("of 14 minimum", html, StringComparison.Ordinal);
        Assert.Contains("0 samples, minimum 50", html, StringComparison.Ordinal);
        Assert.Contains("acceptance_rate", html, StringComparison.Ordinal);
        var summary = detail["expanding too quickly: ".Length..detail.IndexOf(". ", StringComparison.Ordinal)];
        Assert.Contains(summary, html, StringComparison.Ordinal);
    }
}
