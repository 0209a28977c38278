using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Systems;

/// <summary>The control API side of relative and past pilot ends: <c>?allowPast=true</c> and its audit entry.</summary>
public sealed class PastPilotApplyTests
{
    private static string Spec(string name, string ends) =>
        GatewayHarness.Spec(name, "http://127.0.0.1:9/v1", "draft", "").Replace("ends: 2099-12-31", $"ends: {ends}", StringComparison.Ordinal);

    private static Task<HttpResponseMessage> ApplyAsync(PilotageTestServer server, string yaml, string query = "") =>
        server.Admin.PostAsync("/api/v1/systems/apply" + query, new StringContent(yaml, Encoding.UTF8, "application/yaml"));

    [Fact]
    public async Task A_past_end_is_a_located_422_and_allow_past_imports_it_with_its_own_audit_entry()
    {
        await using var server = await PilotageTestServer.StartAsync();
        var yaml = Spec("past-pilot", "2024-03-31");

        using (var refused = await ApplyAsync(server, yaml))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
            var error = Assert.Single((await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray());
            Assert.Equal("spec.pilot.ends", error.GetProperty("path").GetString());
            Assert.Contains("ends on 2024-03-31, which has already passed", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.True(error.GetProperty("line").GetInt32() > 0);
        }
        using (var diff = await server.Admin.PostAsync("/api/v1/systems/diff?allowPast=true", new StringContent(yaml, Encoding.UTF8, "application/yaml")))
        {
            Assert.True(diff.IsSuccessStatusCode, await diff.Content.ReadAsStringAsync());
        }
        using (var imported = await ApplyAsync(server, yaml, "?allowPast=true"))
        {
            Assert.True(imported.IsSuccessStatusCode, await imported.Content.ReadAsStringAsync());
        }
        using (var again = await ApplyAsync(server, yaml))
        {
            Assert.True(again.IsSuccessStatusCode, await again.Content.ReadAsStringAsync());
        }

        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var entries = await db.AuditEntries.AsNoTracking().Where(a => a.Subject == "system:past-pilot").OrderBy(a => a.Sequence).Select(a => new { a.Action, a.After }).ToListAsync();
        Assert.Equal(["system.created", "system.past_pilot_imported"], entries.Select(e => e.Action));
        using var after = JsonDocument.Parse(entries[1].After!);
        Assert.Equal("2024-03-31", after.RootElement.GetProperty("ends").GetString());
        Assert.Contains("--allow-past", after.RootElement.GetProperty("note").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_relative_end_keeps_its_date_when_applied_again_later()
    {
        var time = new AdjustableTime();
        await using var server = await PilotageTestServer.StartAsync(time: time);
        using (var first = await ApplyAsync(server, Spec("relative-pilot", "+30d")))
        {
            Assert.True(first.IsSuccessStatusCode, await first.Content.ReadAsStringAsync());
        }
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

        time.Offset = TimeSpan.FromDays(10);
        using var again = await ApplyAsync(server, Spec("relative-pilot", "+30d"));
        var body = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(body.GetProperty("changed").GetBoolean(), body.ToString());

        using var longer = await ApplyAsync(server, Spec("relative-pilot", "+40d"));
        var changes = (await longer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results")[0].GetProperty("changes");
        var change = Assert.Single(changes.EnumerateArray());
        Assert.Equal("spec.pilot.ends", change.GetProperty("path").GetString());
        Assert.Equal($"{today.AddDays(30):yyyy-MM-dd} (+30d)", change.GetProperty("before").GetString());
        Assert.Equal($"{today.AddDays(50):yyyy-MM-dd} (+40d)", change.GetProperty("after").GetString());
    }
}
