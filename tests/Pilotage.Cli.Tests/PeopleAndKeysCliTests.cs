using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

[Collection(ServerCollection.Name)]
public sealed class PeopleAndKeysCliTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _home = new("pilotage-cli-home");

    private Cli Cli => new(server, _home);

    [Fact]
    public async Task A_new_members_key_works_gets_the_servers_403_for_status_and_stops_working_once_revoked()
    {
        var add = await Cli.RunAsync("users", "add", "mia@example.org", "--role", "member", "--groups", "pilot-a,pilot-b", "--name", "Mia");
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Equal("added mia@example.org (role member, groups pilot-a, pilot-b)", add.Out.Trim());

        var created = await Cli.RunAsync("keys", "create", "--user", "mia@example.org", "--name", "laptop", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        var id = created.Json().GetProperty("id").GetString()!;
        var key = created.Json().GetProperty("key").GetString()!;
        Assert.StartsWith("plt_", key, StringComparison.Ordinal);

        var mine = await Cli.RunAsAsync(key, "keys", "list", "--json");
        Assert.True(mine.ExitCode == 0, mine.ToString());
        Assert.Equal(id, Assert.Single(mine.Json().EnumerateArray()).GetProperty("id").GetString());

        var status = await Cli.RunAsAsync(key, "status");
        Assert.Equal(1, status.ExitCode);
        Assert.Contains("mia@example.org has the role 'member', which may not do this", status.ErrorLine(), StringComparison.Ordinal);

        var revoke = await Cli.RunAsync("keys", "revoke", id);
        Assert.True(revoke.ExitCode == 0, revoke.ToString());
        Assert.StartsWith($"revoked key {id} of mia@example.org", revoke.Out, StringComparison.Ordinal);

        var refused = await Cli.RunAsAsync(key, "keys", "list");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"API key {id} was revoked", refused.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_create_prints_the_secret_once_with_a_warning()
    {
        Assert.Equal(0, (await Cli.RunAsync("users", "add", "kai@example.org", "--role", "owner")).ExitCode);

        var created = await Cli.RunAsync("keys", "create", "--user", "kai@example.org", "--expires", "2099-12-31");

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Matches(@"created key \S+ for kai@example.org; it expires 2100-01-01 00:00Z", created.Out);
        Assert.Matches(@"(?m)^\s+plt_\S+$", created.Out);
        Assert.Contains("only time the secret is shown", created.Out, StringComparison.Ordinal);

        var list = await Cli.RunAsync("keys", "list");
        Assert.StartsWith("ID", list.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("plt_", list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_expiry_date_is_a_usage_error()
    {
        var created = await Cli.RunAsync("keys", "create", "--expires", "next tuesday");

        Assert.Equal(2, created.ExitCode);
        Assert.Contains("--expires 'next tuesday' is not a date", created.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Users_can_be_listed_and_changed()
    {
        Assert.Equal(0, (await Cli.RunAsync("users", "add", "lee@example.org")).ExitCode);

        var set = await Cli.RunAsync("users", "set", "lee@example.org", "--role", "reviewer", "--active", "false");
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Equal("lee@example.org: role reviewer, deactivated", set.Out.Trim());

        var list = await Cli.RunAsync("users", "list");
        Assert.Matches(@"(?m)^lee@example\.org\s+-\s+reviewer\s+no\s+-$", list.Out);

        var json = await Cli.RunAsync("users", "list", "--json");
        var lee = json.Json().EnumerateArray().Single(u => u.GetProperty("email").GetString() == "lee@example.org");
        Assert.False(lee.GetProperty("active").GetBoolean());

        var nothing = await Cli.RunAsync("users", "set", "lee@example.org");
        Assert.Equal(2, nothing.ExitCode);
        nothing.ErrorLine();

        var again = await Cli.RunAsync("users", "add", "lee@example.org");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Groups_can_be_created_filled_and_emptied()
    {
        Assert.Equal(0, (await Cli.RunAsync("users", "add", "sam@example.org")).ExitCode);

        var add = await Cli.RunAsync("groups", "add", "support-leads-cli", "--description", "Reviews drafts");
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Equal("created group support-leads-cli", add.Out.Trim());

        var member = await Cli.RunAsync("groups", "add-member", "support-leads-cli", "sam@example.org");
        Assert.Equal("added sam@example.org to support-leads-cli", member.Out.Trim());
        var twice = await Cli.RunAsync("groups", "add-member", "support-leads-cli", "sam@example.org");
        Assert.Equal("sam@example.org is already in support-leads-cli", twice.Out.Trim());

        var list = await Cli.RunAsync("groups", "list");
        Assert.Matches(@"(?m)^support-leads-cli\s+sam@example\.org\s+Reviews drafts$", list.Out);
        var json = await Cli.RunAsync("groups", "list", "--json");
        Assert.Contains(json.Json().EnumerateArray(), g => g.GetProperty("name").GetString() == "support-leads-cli");

        var remove = await Cli.RunAsync("groups", "remove-member", "support-leads-cli", "sam@example.org", "--json");
        Assert.Equal("removed", remove.Json().GetProperty("result").GetString());

        var unknown = await Cli.RunAsync("groups", "add-member", "no-such-group", "sam@example.org");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no group 'no-such-group'", unknown.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Users_show_says_which_role_a_person_has_and_why()
    {
        Assert.Equal(0, (await Cli.RunAsync("users", "add", "noor@example.org", "--role", "owner", "--groups", "team-x", "--name", "Noor")).ExitCode);
        var show = await Cli.RunAsync("users", "show", "NOOR@example.org");
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("noor@example.org (Noor)", show.Out, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^\s+role:\s+owner$", show.Out);
        Assert.Matches(@"(?m)^\s+why:\s+owner given by an admin; no group of theirs is mapped to a role$", show.Out);
        Assert.Matches(@"(?m)^\s+groups:\s+team-x$", show.Out);
        var json = await Cli.RunAsync("users", "show", "noor@example.org", "--json");
        Assert.Equal("owner", json.Json().GetProperty("assignedRole").GetString());

        var unknown = await Cli.RunAsync("users", "show", "nobody@example.org");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no user nobody@example.org", unknown.ErrorLine(), StringComparison.Ordinal);
    }

    public void Dispose() => _home.Dispose();
}
