using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// The system's owner and an admin may send evaluation cases without being users of the system (no
/// pilot group, no training), recorded as evaluation; nobody else can borrow that to use it.
/// </summary>
public sealed class EvaluationAccessTests
{
    private const string Training = "  training: { required: true, text: Use for drafts only. }";

    private static async Task<long> StartRunAsync(HttpClient client, HttpStatusCode expected = HttpStatusCode.Created)
    {
        using var response = await client.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/evals", new { testSet = "cases", testSetHash = "abc", cases = 1 });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {body}");
        return expected == HttpStatusCode.Created ? JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64() : 0;
    }

    private static async Task<(HttpStatusCode Status, string Body, string? Interaction)> CaseAsync(HttpClient client, string? header)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(GatewayHarness.ChatBody("Where is my order?")) };
        if (header is not null) request.Headers.Add("x-pilotage-eval", header);
        using var response = await client.SendAsync(request);
        var interaction = response.Headers.TryGetValues("x-pilotage-interaction-id", out var ids) ? ids.Single() : null;
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), interaction);
    }

    [Fact]
    public async Task The_owner_and_an_admin_evaluate_without_group_or_training_and_it_is_recorded_as_evaluation()
    {
        await using var h = await GatewayHarness.StartAsync(extra: Training);
        foreach (var client in new[] { h.Owner, h.Server.Admin })
        {
            // As users they are turned away: not in the pilot group.
            Assert.Equal(HttpStatusCode.Forbidden, (await CaseAsync(client, null)).Status);

            var run = await StartRunAsync(client);
            var answered = await CaseAsync(client, $"run={run};case=c1;category=normal");

            Assert.True(answered.Status == HttpStatusCode.OK, answered.Body);
            var row = await h.InteractionAsync(answered.Interaction!);
            Assert.Equal(run, row.EvalRun);
        }
        await using var db = h.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var kinds = await db.Rollups.AsNoTracking().Where(r => r.System == GatewayHarness.System && r.Served > 0).Select(r => r.Kind).Distinct().ToListAsync();
        Assert.Equal(["eval"], kinds);
        Assert.False(await db.ActiveUsers.AnyAsync(a => a.System == GatewayHarness.System));
    }

    [Fact]
    public async Task A_member_cannot_borrow_the_owners_run_nor_invent_one()
    {
        await using var h = await GatewayHarness.StartAsync(extra: Training);
        var run = await StartRunAsync(h.Owner);
        var before = h.Upstream.Received.Count;

        var borrowed = await CaseAsync(h.Member, $"run={run};case=c1;category=normal");
        Assert.Equal(HttpStatusCode.Forbidden, borrowed.Status);
        Assert.Contains("eval_run_not_yours", borrowed.Body, StringComparison.Ordinal);

        var invented = await CaseAsync(h.Member, "run=987654;case=c1;category=normal");
        Assert.Equal(HttpStatusCode.BadRequest, invented.Status);
        Assert.Contains("eval_run_not_running", invented.Body, StringComparison.Ordinal);

        // Members cannot start a run at all; the training still stands between the member and the model.
        await StartRunAsync(h.Member, HttpStatusCode.Forbidden);
        var untrained = await CaseAsync(h.Member, null);
        Assert.Equal(HttpStatusCode.Forbidden, untrained.Status);
        Assert.Contains("training_required", untrained.Body, StringComparison.Ordinal);
        Assert.Equal(before, h.Upstream.Received.Count);
    }

    [Fact]
    public async Task An_owner_of_another_system_cannot_evaluate_this_one()
    {
        await using var h = await GatewayHarness.StartAsync(extra: Training);
        var other = h.Server.ClientFor(await h.Server.CreateUserWithKeyAsync("otto@example.org", "owner"));

        using var response = await other.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/evals", new { testSet = "cases", testSetHash = "abc", cases = 1 });

        // Read scoping: another owner's system does not exist for them, so no run can start and nothing about it is told.
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains($"no system '{GatewayHarness.System}'", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluation_does_not_pass_a_pause()
    {
        await using var h = await GatewayHarness.StartAsync(extra: Training);
        var run = await StartRunAsync(h.Server.Admin);
        using (var pause = await h.Owner.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/pause", new { reason = "wrong prices" }))
        {
            Assert.True(pause.IsSuccessStatusCode, await pause.Content.ReadAsStringAsync());
        }

        var paused = await CaseAsync(h.Server.Admin, $"run={run};case=c1;category=normal");

        Assert.Equal(HttpStatusCode.Locked, paused.Status);
        Assert.Contains("system_paused", paused.Body, StringComparison.Ordinal);
    }
}
