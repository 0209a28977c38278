using System.Diagnostics;
using System.Net;
using System.Text;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Replicas;

/// <summary>
/// Several <c>pilotage serve</c> processes on one PostgreSQL database act as one: a change made through
/// any replica reaches the others' gateways, and a pause rule tripped through two replicas fires once.
/// </summary>
public sealed class ReplicaTests
{
    private const string System = GatewayHarness.System;

    [PostgresFact]
    public async Task A_pause_resume_and_key_revocation_through_one_replica_reach_the_other_within_a_second_also_after_the_LISTEN_connection_drops()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var upstream = await FakeUpstream.StartAsync();
        await using var a = await ServerProcess.StartAsync(database.ConnectionString);
        await using var b = await ServerProcess.StartAsync(database.ConnectionString);
        var (memberKey, keyId) = await SetUpPilotAsync(a, upstream, "full", "");
        var memberOnA = a.ClientFor(memberKey);
        var memberOnB = b.ClientFor(memberKey);
        // B learnt of the system, the member and the key from A's commits alone.
        await WaitForStatusAsync(memberOnB, HttpStatusCode.OK, TimeSpan.FromSeconds(5));

        (await a.Admin.PostAsJsonAsync($"/api/v1/systems/{System}/pause", new { reason = "replica test" })).EnsureSuccessStatusCode();
        var paused = await WaitForStatusAsync(memberOnB, (HttpStatusCode)423, TimeSpan.FromSeconds(5));
        Assert.True(paused < TimeSpan.FromSeconds(1), $"replica B refused {paused.TotalMilliseconds:0} ms after the pause through A; expected under 1 s");

        (await b.Admin.PostAsJsonAsync($"/api/v1/systems/{System}/resume", new { reason = "replica test over" })).EnsureSuccessStatusCode();
        var resumed = await WaitForStatusAsync(memberOnA, HttpStatusCode.OK, TimeSpan.FromSeconds(5));
        Assert.True(resumed < TimeSpan.FromSeconds(1), $"replica A served {resumed.TotalMilliseconds:0} ms after the resume through B; expected under 1 s");

        (await a.Admin.DeleteAsync($"/api/v1/keys/{keyId}")).EnsureSuccessStatusCode();
        var revoked = await WaitForStatusAsync(memberOnB, HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(5));
        Assert.True(revoked < TimeSpan.FromSeconds(1), $"replica B still accepted the key {revoked.TotalMilliseconds:0} ms after it was revoked through A");

        // The LISTEN connections drop (a failover, a pooler restart): the replicas reconnect and listen again.
        await using (var connection = new Npgsql.NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var terminate = new Npgsql.NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pilotage replica listener'", connection);
            Assert.Equal(2L, await terminate.ExecuteScalarAsync());
        }
        await WaitForAsync(() => Task.FromResult(b.Output.Contains("the LISTEN connection failed", StringComparison.Ordinal)), "replica B to notice its LISTEN connection dropped");
        await Task.Delay(1500);
        var otherOnB = b.ClientFor(await CreateKeyAsync(a, "mia@example.org"));
        await WaitForStatusAsync(otherOnB, HttpStatusCode.OK, TimeSpan.FromSeconds(5));
        (await a.Admin.PostAsJsonAsync($"/api/v1/systems/{System}/pause", new { reason = "after reconnect" })).EnsureSuccessStatusCode();
        var again = await WaitForStatusAsync(otherOnB, (HttpStatusCode)423, TimeSpan.FromSeconds(10));
        Assert.True(again < TimeSpan.FromSeconds(1), $"after reconnecting, replica B refused {again.TotalMilliseconds:0} ms after the pause (the safety net alone checks every 5 s)");
    }

    internal static async Task<string> CreateKeyAsync(ServerProcess server, string user)
    {
        using var key = await server.Admin.PostAsJsonAsync("/api/v1/keys", new { user });
        key.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await key.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("key").GetString()!;
    }

    [PostgresFact]
    public async Task With_LISTEN_off_the_safety_net_check_still_brings_a_pause_to_the_replica()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var upstream = await FakeUpstream.StartAsync();
        await using var a = await ServerProcess.StartAsync(database.ConnectionString);
        var netOnly = new Dictionary<string, string> { ["PILOTAGE_REPLICA_LISTEN"] = "off", ["PILOTAGE_REPLICA_CHECK_SECONDS"] = "0.5" };
        await using var b = await ServerProcess.StartAsync(database.ConnectionString, environment: netOnly);
        var (memberKey, _) = await SetUpPilotAsync(a, upstream, "full", "");
        var memberOnB = b.ClientFor(memberKey);
        await WaitForStatusAsync(memberOnB, HttpStatusCode.OK, TimeSpan.FromSeconds(5));

        (await a.Admin.PostAsJsonAsync($"/api/v1/systems/{System}/pause", new { reason = "safety net test" })).EnsureSuccessStatusCode();
        var paused = await WaitForStatusAsync(memberOnB, (HttpStatusCode)423, TimeSpan.FromSeconds(10));
        // One check interval (0.5 s) plus the refresh; generous for a loaded machine, far below "never".
        Assert.True(paused < TimeSpan.FromSeconds(2), $"replica B refused {paused.TotalMilliseconds:0} ms after the pause; the safety net checks every 0.5 s");
        Assert.Contains("LISTEN off", b.Output, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task A_rule_tripped_through_two_replicas_fires_once()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var upstream = await FakeUpstream.StartAsync();
        await using var a = await ServerProcess.StartAsync(database.ConnectionString);
        await using var b = await ServerProcess.StartAsync(database.ConnectionString);
        var notify = "{ metric: error_rate, over: 3, above: 0.5, action: notify }";
        var (memberKey, _) = await SetUpPilotAsync(a, upstream, "full", Rules(notify));
        var memberOnA = a.ClientFor(memberKey);
        var memberOnB = b.ClientFor(memberKey);
        await WaitForStatusAsync(memberOnB, HttpStatusCode.OK, TimeSpan.FromSeconds(5));
        var store = new PilotageStore(StoreLocation.Parse(database.ConnectionString));

        // A notify rule changes nothing, so nothing but the fire-once guard stops each replica recording it.
        upstream.Behaviour = UpstreamBehaviour.ServerError;
        Assert.All(await ErrorsThroughBothAsync(memberOnA, memberOnB), status => Assert.Equal(HttpStatusCode.BadGateway, status));
        await WaitForAsync(async () => (await FiredAsync(store)).Count >= 1, "the notify rule to fire");
        await Task.Delay(2000);
        var notified = await FiredAsync(store);
        Assert.Single(notified);
        Assert.Equal("notify", notified[0].RootElement.GetProperty("action").GetString());

        // A pause rule: the first replica pauses, the other's firing finds the system changed.
        upstream.Behaviour = UpstreamBehaviour.Answer;
        (await a.Admin.PostAsync("/api/v1/systems/apply", Yaml(GatewayHarness.Spec(System, upstream.BaseUrl, "full", Rules(notify, "{ metric: error_rate, over: 4, above: 0.5, action: pause }"))))).EnsureSuccessStatusCode();
        await WaitForRulesAsync(store, 2);
        await Task.Delay(500);
        upstream.Behaviour = UpstreamBehaviour.ServerError;
        await ErrorsThroughBothAsync(memberOnA, memberOnB, 4);
        await WaitForAsync(async () => await CountAsync(store, "system.paused") >= 1, "the pause rule to pause the system");
        await Task.Delay(2000);
        var pauses = (await FiredAsync(store)).Where(f => f.RootElement.GetProperty("action").GetString() == "pause").ToList();
        Assert.Single(pauses);
        Assert.Equal(1, await CountAsync(store, "system.paused"));
        Assert.Equal((HttpStatusCode)423, (await memberOnB.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
    }

    [PostgresFact]
    public async Task A_webhook_is_sent_once_even_when_two_replicas_poll_while_it_is_in_flight()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var upstream = await FakeUpstream.StartAsync();
        var received = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [Pilotage.Server.Hosting.PilotageApp.NoConfigReload] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var receiver = builder.Build();
        receiver.MapPost("/hook", async (HttpContext http) =>
        {
            received.Enqueue($"{http.Request.Headers["X-Pilotage-Event"]} {http.Request.Headers["X-Pilotage-Delivery"]}");
            // Slow to answer: the other replica polls (every 2 s) while this delivery is still pending.
            await Task.Delay(TimeSpan.FromSeconds(5));
            return Results.Ok();
        });
        await receiver.StartAsync();
        var hook = new Dictionary<string, string> { ["PILOTAGE_WEBHOOK_URL"] = receiver.Urls.First() + "/hook" };
        await using var a = await ServerProcess.StartAsync(database.ConnectionString, environment: hook);
        await using var b = await ServerProcess.StartAsync(database.ConnectionString, environment: hook);
        await SetUpPilotAsync(a, upstream, "full", "");
        // B reads systems through its policy snapshot, which hears of A's new system within the propagation bound.
        await WaitForAsync(async () =>
        {
            using var known = await b.Admin.GetAsync($"/api/v1/systems/{System}");
            return known.IsSuccessStatusCode;
        }, "replica b to know the system");

        (await b.Admin.PostAsJsonAsync($"/api/v1/systems/{System}/pause", new { reason = "webhook test" })).EnsureSuccessStatusCode();
        await WaitForAsync(() => Task.FromResult(received.Any(r => r.StartsWith("system.paused ", StringComparison.Ordinal))), "the pause webhook");
        // Both replicas poll at least twice more while it is in flight, and after it is recorded delivered.
        await Task.Delay(TimeSpan.FromSeconds(8));
        Assert.Single(received, r => r.StartsWith("system.paused ", StringComparison.Ordinal));
        var decisions = received.Where(r => r.StartsWith("system.decision.", StringComparison.Ordinal)).ToList();
        Assert.Equal(decisions.Distinct().Count(), decisions.Count);
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private static string Rules(params string[] rules) => "  pauseRules:\n" + string.Join("\n", rules.Select(r => "    - " + r));

    internal static StringContent Yaml(string yaml) => new(yaml, Encoding.UTF8, "application/yaml");

    /// <summary>Through replica A only: people, a member key, the system in pilot. Returns the member's key and its id.</summary>
    internal static async Task<(string Key, string Id)> SetUpPilotAsync(ServerProcess a, FakeUpstream upstream, string mode, string extra)
    {
        (await a.Admin.PostAsJsonAsync("/api/v1/users", new { email = "owner@example.org", role = "owner" })).EnsureSuccessStatusCode();
        (await a.Admin.PostAsJsonAsync("/api/v1/users", new { email = "rita@example.org", role = "reviewer", groups = new[] { "support-leads" } })).EnsureSuccessStatusCode();
        (await a.Admin.PostAsJsonAsync("/api/v1/users", new { email = "mia@example.org", role = "member", groups = new[] { GatewayHarness.Group } })).EnsureSuccessStatusCode();
        using var key = await a.Admin.PostAsJsonAsync("/api/v1/keys", new { user = "mia@example.org" });
        key.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await key.Content.ReadAsStringAsync());
        var applied = await a.Admin.PostAsync("/api/v1/systems/apply", Yaml(GatewayHarness.Spec(System, upstream.BaseUrl, mode, extra)));
        Assert.True(applied.IsSuccessStatusCode, await applied.Content.ReadAsStringAsync());
        var decided = await a.Admin.PostAsJsonAsync($"/api/v1/systems/{System}/decisions", new { outcome = "pilot", reason = "replica test" });
        Assert.True(decided.IsSuccessStatusCode, await decided.Content.ReadAsStringAsync());
        return (body.RootElement.GetProperty("key").GetString()!, body.RootElement.GetProperty("id").GetString()!);
    }

    /// <summary>Sends chat requests until one answers <paramref name="expected"/>; returns how long that took.</summary>
    internal static async Task<TimeSpan> WaitForStatusAsync(HttpClient client, HttpStatusCode expected, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        HttpStatusCode last = 0;
        while (clock.Elapsed < within)
        {
            using var response = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?"));
            last = response.StatusCode;
            if (last == expected) return clock.Elapsed;
            await Task.Delay(5);
        }
        throw new TimeoutException($"expected {(int)expected} within {within}; the replica still answers {(int)last}");
    }

    /// <summary>Failing requests through both replicas at once (the upstream answers 500); their statuses.</summary>
    private static async Task<List<HttpStatusCode>> ErrorsThroughBothAsync(HttpClient onA, HttpClient onB, int each = 3)
    {
        var requests = Enumerable.Range(0, each).SelectMany(_ => new[] { onA, onB })
            .Select(client => client.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?")));
        var statuses = new List<HttpStatusCode>();
        foreach (var response in await Task.WhenAll(requests))
        {
            statuses.Add(response.StatusCode);
            response.Dispose();
        }
        return statuses;
    }

    private static async Task<List<JsonDocument>> FiredAsync(PilotageStore store)
    {
        await using var db = store.CreateDbContext();
        var after = await db.AuditEntries.AsNoTracking().Where(e => e.Action == "system.rule_fired").OrderBy(e => e.Sequence).Select(e => e.After!).ToListAsync();
        return after.Select(text => JsonDocument.Parse(text)).ToList();
    }

    private static async Task<int> CountAsync(PilotageStore store, string action)
    {
        await using var db = store.CreateDbContext();
        return await db.AuditEntries.CountAsync(e => e.Action == action);
    }

    private static async Task WaitForRulesAsync(PilotageStore store, int count)
    {
        await WaitForAsync(async () =>
        {
            await using var db = store.CreateDbContext();
            var spec = await db.Systems.AsNoTracking().Where(s => s.Slug == System).Select(s => s.SpecJson).SingleAsync();
            return JsonDocument.Parse(spec).RootElement.GetProperty("pauseRules").GetArrayLength() == count;
        }, $"{count} pause rules in force");
    }

    internal static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        throw new TimeoutException($"waited 15 s for {what}");
    }
}
