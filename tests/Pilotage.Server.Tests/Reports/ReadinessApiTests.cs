using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Core.Pilots;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Reports;

/// <summary>The readiness questions through the control API: read by staff, answered by the owner or an admin.</summary>
public sealed class ReadinessApiTests : IAsyncLifetime
{
    private GatewayHarness _h = null!;

    public async Task InitializeAsync() => _h = await GatewayHarness.StartAsync();

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private static string Path(string? question = null) => $"/api/v1/systems/{GatewayHarness.System}/readiness" + (question is null ? "" : $"/{question}");

    [Fact]
    public async Task Get_lists_the_twenty_questions_with_status_answer_and_figure()
    {
        var readiness = await _h.Owner.GetFromJsonAsync<JsonElement>(Path());
        var questions = readiness.GetProperty("questions").EnumerateArray().ToList();
        Assert.Equal(20, questions.Count);
        Assert.Equal(ReadinessQuestions.All.Select(q => q.Id), questions.Select(q => q.GetProperty("id").GetString()!));
        var owner = questions.Single(q => q.GetProperty("id").GetString() == ReadinessQuestions.Owner);
        Assert.Equal("ok", owner.GetProperty("status").GetString());
        Assert.Contains("owner@example.org", owner.GetProperty("answer").GetString(), StringComparison.Ordinal);
        var risky = questions.Single(q => q.GetProperty("id").GetString() == ReadinessQuestions.RiskyTasks);
        Assert.Equal("needs_answer", risky.GetProperty("status").GetString());
        Assert.False(readiness.GetProperty("readyToProceed").GetBoolean());
    }

    [Fact]
    public async Task The_owner_answers_a_question_and_the_answer_is_audited()
    {
        var response = await _h.Owner.PutAsJsonAsync(Path(ReadinessQuestions.RiskyTasks), new { answer = "Refunds over 500 EUR stay manual" });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var answered = JsonDocument.Parse(body).RootElement;
        Assert.Equal("ok", answered.GetProperty("status").GetString());
        Assert.Equal("Refunds over 500 EUR stay manual", answered.GetProperty("person").GetProperty("text").GetString());
        Assert.Equal("owner@example.org", answered.GetProperty("person").GetProperty("by").GetString());

        var readiness = await _h.Server.Admin.GetFromJsonAsync<JsonElement>(Path());
        var risky = readiness.GetProperty("questions").EnumerateArray().Single(q => q.GetProperty("id").GetString() == ReadinessQuestions.RiskyTasks);
        Assert.Equal("Refunds over 500 EUR stay manual", risky.GetProperty("answer").GetString());

        // A second answer replaces the first; both are in the audit trail.
        (await _h.Server.Admin.PutAsJsonAsync(Path(ReadinessQuestions.RiskyTasks), new { answer = "Refunds over 200 EUR stay manual" })).EnsureSuccessStatusCode();
        await using var db = _h.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var entries = await db.AuditEntries.AsNoTracking().Where(a => a.Action == "readiness.answered").OrderBy(a => a.Sequence).ToListAsync();
        Assert.Equal(2, entries.Count);
        Assert.Equal($"system:{GatewayHarness.System}", entries[0].Subject);
        Assert.Null(entries[0].Before);
        Assert.Contains("500 EUR", entries[1].Before, StringComparison.Ordinal);
        Assert.Contains("200 EUR", entries[1].After, StringComparison.Ordinal);
        Assert.Equal("Refunds over 200 EUR stay manual", (await db.ReadinessAnswers.SingleAsync()).Answer);

        var report = await _h.Server.Admin.GetStringAsync($"/api/v1/systems/{GatewayHarness.System}/report?format=md");
        Assert.Contains("Refunds over 200 EUR stay manual", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_is_refused_another_owner_is_refused_and_an_unknown_question_is_404()
    {
        var member = await _h.Member.PutAsJsonAsync(Path(ReadinessQuestions.RiskyTasks), new { answer = "x" });
        Assert.Equal(HttpStatusCode.Forbidden, member.StatusCode);

        var other = _h.Server.ClientFor(await _h.Server.CreateUserWithKeyAsync("other-owner@example.org", "owner"));
        var notTheirs = await other.PutAsJsonAsync(Path(ReadinessQuestions.RiskyTasks), new { answer = "x" });
        // Another owner's system does not exist for them: 404, and nothing about whose it is.
        Assert.Equal(HttpStatusCode.NotFound, notTheirs.StatusCode);
        Assert.DoesNotContain("owner@example.org", await notTheirs.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var unknown = await _h.Owner.PutAsJsonAsync(Path("rollout.risky"), new { answer = "x" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var body = await unknown.Content.ReadAsStringAsync();
        foreach (var q in ReadinessQuestions.All) Assert.Contains(q.Id, body, StringComparison.Ordinal);

        var empty = await _h.Owner.PutAsJsonAsync(Path(ReadinessQuestions.RiskyTasks), new { answer = " " });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);

        await using var db = _h.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        Assert.Empty(await db.ReadinessAnswers.ToListAsync());
    }
}
