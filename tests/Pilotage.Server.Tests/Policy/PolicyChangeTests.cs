using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Policy;

/// <summary>
/// A control-plane change rebuilds only what it touched in the policy snapshot, and the result is always the
/// snapshot a whole rebuild would give: entries it did not touch stay the same instances, and no change is lost
/// when commands and catch-ups (a replica's notifications) run at once.
/// </summary>
public sealed class PolicyChangeTests
{
    private const string System = GatewayHarness.System;
    private const string Other = "other-drafts";

    private static async Task<GatewayHarness> TwoSystemsAsync(string? database = null)
    {
        var harness = await GatewayHarness.StartAsync("full", database: database);
        await harness.Server.ApplyAsync(GatewayHarness.Spec(Other, harness.Upstream.BaseUrl, "full", ""));
        (await harness.Server.Admin.PostAsJsonAsync($"/api/v1/systems/{Other}/decisions", new { outcome = "pilot", reason = "test" })).EnsureSuccessStatusCode();
        return harness;
    }

    private static PolicyCache PolicyOf(GatewayHarness harness) => harness.Server.App.Services.GetRequiredService<PolicyCache>();

    [Fact]
    public async Task Pausing_one_system_rebuilds_its_entry_only_and_the_other_system_stays_the_same_instance()
    {
        await using var harness = await TwoSystemsAsync();
        var policy = PolicyOf(harness);
        var before = policy.Current;
        var rebuilds = policy.Rebuilds;
        var memberKey = before.Keys.Values.Single(k => k.User.Email == "mia@example.org");

        (await harness.Server.Admin.PostAsJsonAsync($"/api/v1/systems/{System}/pause", new { reason = "scoped" })).EnsureSuccessStatusCode();

        var after = policy.Current;
        Assert.NotNull(after.Systems[System].State.Pause);
        Assert.Null(before.Systems[System].State.Pause);
        Assert.Same(before.Systems[Other], after.Systems[Other]);
        Assert.Same(memberKey, after.Keys[memberKey.Id]);
        Assert.Same(before.People["mia@example.org"], after.People["mia@example.org"]);
        Assert.Equal(rebuilds.Whole, policy.Rebuilds.Whole);
        Assert.True(policy.Rebuilds.Scoped > rebuilds.Scoped, "the pause was applied by rebuilding the whole snapshot");
        // The gateway refuses the paused system on the very next request.
        Assert.Equal(423, (int)(await harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
        await AssertAsWholeAsync(harness, policy.Current);
    }

    [Fact]
    public async Task Deactivating_an_owner_orphans_their_systems_and_their_keys_in_a_scoped_change()
    {
        await using var harness = await TwoSystemsAsync();
        var policy = PolicyOf(harness);
        var before = policy.Current;
        var rebuilds = policy.Rebuilds;

        (await harness.Server.Admin.PatchAsJsonAsync("/api/v1/users/owner@example.org", new { active = false })).EnsureSuccessStatusCode();

        var after = policy.Current;
        Assert.True(after.Systems[System].State.OrphanRestricted);
        Assert.True(after.Systems[Other].State.OrphanRestricted);
        Assert.All(after.Keys.Values.Where(k => k.User.Email == "owner@example.org"), k => Assert.False(k.User.Active));
        var member = before.Keys.Values.Single(k => k.User.Email == "mia@example.org");
        Assert.Same(member, after.Keys[member.Id]);
        Assert.Equal(rebuilds.Whole, policy.Rebuilds.Whole);
        await AssertAsWholeAsync(harness, after);

        (await harness.Server.Admin.PatchAsJsonAsync("/api/v1/users/owner@example.org", new { active = true })).EnsureSuccessStatusCode();
        Assert.False(policy.Current.Systems[System].State.OrphanRestricted);
        await AssertAsWholeAsync(harness, policy.Current);
    }

    [Fact]
    public async Task Removing_a_member_from_the_pilot_group_reaches_their_key_in_a_scoped_change()
    {
        await using var harness = await TwoSystemsAsync();
        var policy = PolicyOf(harness);
        var rebuilds = policy.Rebuilds;
        Assert.Contains(GatewayHarness.Group, (IReadOnlySet<string>)policy.Current.People["mia@example.org"].Groups);

        (await harness.Server.Admin.DeleteAsync($"/api/v1/groups/{GatewayHarness.Group}/members/mia@example.org")).EnsureSuccessStatusCode();

        var after = policy.Current;
        Assert.DoesNotContain(GatewayHarness.Group, (IReadOnlySet<string>)after.People["mia@example.org"].Groups);
        Assert.All(after.Keys.Values.Where(k => k.User.Email == "mia@example.org"), k => Assert.DoesNotContain(GatewayHarness.Group, (IReadOnlySet<string>)k.User.Groups));
        Assert.Equal(rebuilds.Whole, policy.Rebuilds.Whole);
        Assert.NotEqual(200, (int)(await harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
        await AssertAsWholeAsync(harness, after);
    }

    [Fact]
    public async Task A_revoked_key_is_refused_on_the_next_request_while_the_other_keys_stay_the_same_instances()
    {
        await using var harness = await TwoSystemsAsync();
        var policy = PolicyOf(harness);
        var before = policy.Current;
        var member = before.Keys.Values.Single(k => k.User.Email == "mia@example.org");

        (await harness.Server.Admin.DeleteAsync($"/api/v1/keys/{member.Id}")).EnsureSuccessStatusCode();

        Assert.Equal(401, (int)(await harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
        var after = policy.Current;
        Assert.True(after.Keys[member.Id].Revoked);
        Assert.All(before.Keys.Values.Where(k => k.Id != member.Id), k => Assert.Same(k, after.Keys[k.Id]));
        Assert.Same(before.Systems[System], after.Systems[System]);
        await AssertAsWholeAsync(harness, after);
    }

    [Fact]
    public async Task A_new_training_text_takes_back_the_acknowledgements_of_the_old_one_in_a_scoped_change()
    {
        const string training = "  training:\n    required: true\n    text: Use for drafts only.";
        await using var harness = await GatewayHarness.StartAsync("full", training);
        var policy = PolicyOf(harness);
        (await harness.Member.PostAsync($"/v1/training/{System}/acknowledge", null)).EnsureSuccessStatusCode();
        var mia = policy.Current.People["mia@example.org"];
        Assert.True(policy.Current.HasTraining(mia.Id, policy.Current.Systems[System].State.Id));
        var rebuilds = policy.Rebuilds;

        await harness.Server.ApplyAsync(GatewayHarness.Spec(System, harness.Upstream.BaseUrl, "full", training.Replace("drafts only", "drafts only; never paste card numbers", StringComparison.Ordinal)));

        Assert.False(policy.Current.HasTraining(mia.Id, policy.Current.Systems[System].State.Id));
        Assert.Equal(403, (int)(await harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
        Assert.Equal(rebuilds.Whole, policy.Rebuilds.Whole);
        await AssertAsWholeAsync(harness, policy.Current);
    }

    [Fact]
    public Task Concurrent_commands_and_catch_ups_lose_no_change_on_SQLite() => ConcurrentChangesAsync(null);

    [PostgresFact]
    public async Task Concurrent_commands_and_catch_ups_lose_no_change_on_PostgreSQL()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await ConcurrentChangesAsync(database.ConnectionString);
    }

    /// <summary>
    /// Commands of every scoped kind run at once from several tasks, while another task keeps asking a second cache
    /// on the same store (as a replica does on each notification) to catch up. Neither cache may end short of any change.
    /// </summary>
    private static async Task ConcurrentChangesAsync(string? database)
    {
        await using var harness = await TwoSystemsAsync(database);
        var server = harness.Server;
        var store = server.App.Services.GetRequiredService<PilotageStore>();
        using var follower = new PolicyCache(store, NullLogger<PolicyCache>.Instance);
        await follower.RefreshAsync(CancellationToken.None);
        using var done = new CancellationTokenSource();

        async Task PauseAndResumeAsync(string slug)
        {
            for (var i = 0; i < 8; i++)
            {
                (await server.Admin.PostAsJsonAsync($"/api/v1/systems/{slug}/pause", new { reason = $"round {i}" })).EnsureSuccessStatusCode();
                (await server.Admin.PostAsJsonAsync($"/api/v1/systems/{slug}/resume", new { reason = $"round {i}" })).EnsureSuccessStatusCode();
            }
            (await server.Admin.PostAsJsonAsync($"/api/v1/systems/{slug}/pause", new { reason = "last" })).EnsureSuccessStatusCode();
        }
        async Task KeysAsync()
        {
            for (var i = 0; i < 8; i++) await server.CreateKeyAsync("mia@example.org");
            await server.CreateUserWithKeyAsync("noor@example.org", "member", GatewayHarness.Group);
        }
        async Task MembershipsAsync()
        {
            for (var i = 0; i < 6; i++)
            {
                (await server.Admin.PutAsync($"/api/v1/groups/{GatewayHarness.Group}/members/rita@example.org", null)).EnsureSuccessStatusCode();
                (await server.Admin.DeleteAsync($"/api/v1/groups/{GatewayHarness.Group}/members/rita@example.org")).EnsureSuccessStatusCode();
            }
            (await server.Admin.PatchAsJsonAsync("/api/v1/users/rita@example.org", new { active = false })).EnsureSuccessStatusCode();
        }
        async Task FollowAsync()
        {
            while (!done.IsCancellationRequested) await follower.CatchUpAsync(CancellationToken.None);
        }

        var following = Task.Run(FollowAsync);
        await Task.WhenAll(Task.Run(() => PauseAndResumeAsync(System)), Task.Run(() => PauseAndResumeAsync(Other)), Task.Run(KeysAsync), Task.Run(MembershipsAsync));
        await done.CancelAsync();
        await following;
        await follower.CatchUpAsync(CancellationToken.None);

        var policy = PolicyOf(harness);
        await AssertAsWholeAsync(harness, policy.Current);
        await AssertAsWholeAsync(harness, follower.Current);
        Assert.Equal("last", follower.Current.Systems[Other].State.Pause?.Reason);
        Assert.Equal(1 + 8, follower.Current.Keys.Values.Count(k => k.User.Email == "mia@example.org"));
        Assert.True(follower.Rebuilds.Scoped > 0, "the follower never caught up by a scoped change");
    }

    /// <summary>The snapshot holds exactly what a whole rebuild from the store gives.</summary>
    private static async Task AssertAsWholeAsync(GatewayHarness harness, PolicySnapshot snapshot)
    {
        var whole = await PolicySnapshot.LoadAsync(harness.Server.App.Services.GetRequiredService<PilotageStore>(), 0, CancellationToken.None);
        Assert.Equal(Describe(whole), Describe(snapshot));
    }

    private static List<string> Describe(PolicySnapshot s)
    {
        static string Person(Principal p) => $"{p.Id} {p.Email} {p.Role} {p.Active} [{string.Join(",", p.Groups.Order(StringComparer.Ordinal))}]";
        List<string> lines =
        [
            .. s.Systems.Select(e => $"system {e.Key} {e.Value.State.Id} {e.Value.State.Lifecycle} v{e.Value.State.ConfigVersion} pause={e.Value.State.Pause} orphan={e.Value.State.OrphanRestricted} pending={e.Value.State.PendingOwner}"),
            .. s.Keys.Select(e => $"key {e.Key} {e.Value.Revoked} {e.Value.ExpiresAt} {Person(e.Value.User)} {e.Value.GroupsJson}"),
            .. s.People.Select(e => $"person {e.Key} {Person(e.Value)}"),
            .. s.Systems.Values.SelectMany(x => s.People.Values.Where(p => s.HasTraining(p.Id, x.State.Id)).Select(p => $"trained {p.Id} {x.State.Id}")),
            $"bootstrap {s.Bootstrap?.Id} {(s.Bootstrap is null ? "" : Person(s.Bootstrap.User))}",
        ];
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }
}
