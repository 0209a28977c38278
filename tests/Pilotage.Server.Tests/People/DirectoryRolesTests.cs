using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Core.Access;
using Pilotage.Server.People;
using Pilotage.Server.Tests.Scim;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.People;

/// <summary>
/// The group → role mapping outside SCIM: the one entry point the sign-in path calls with a token's groups, and a
/// changed mapping applied at start-up, audited.
/// </summary>
public sealed class DirectoryRolesTests
{
    [Fact]
    public async Task Groups_a_directory_reports_make_the_person_known_translate_ids_and_decide_the_role_once()
    {
        await using var server = await PilotageTestServer.StartAsync(configure: ScimClient.Configure);
        var roles = server.App.Services.GetRequiredService<DirectoryRoles>();

        // Entra ID puts group object ids in its tokens; the table names them.
        var decision = await roles.SyncDirectoryGroupsAsync("Ines@Example.org", ["8F1C6A0E-2B1D-4C55-9A57-0C2F5B1E9D11", "Support"], "oidc", CancellationToken.None);
        Assert.Equal(Role.Reviewer, decision.Role);
        Assert.Equal("ai-reviewers", decision.Rule?.Group);
        var view = await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users/ines@example.org");
        Assert.Equal("reviewer", view.GetProperty("role").GetString());
        Assert.Equal(["ai-reviewers", "support"], view.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));
        var audit = Assert.Single(await ScimClient.AuditAsync(server, "user.role_from_directory"));
        Assert.Equal("oidc:ines@example.org", audit.Actor);

        // The same groups again write nothing; fewer groups take the role away again, audited.
        var entries = (await ScimClient.AuditAsync(server, "group.member_added")).Count;
        await roles.SyncDirectoryGroupsAsync("ines@example.org", ["ai-reviewers", "support"], "oidc", CancellationToken.None);
        Assert.Equal(entries, (await ScimClient.AuditAsync(server, "group.member_added")).Count);
        Assert.Single(await ScimClient.AuditAsync(server, "user.role_from_directory"));
        decision = await roles.SyncDirectoryGroupsAsync("ines@example.org", ["support"], "oidc", CancellationToken.None);
        Assert.Equal(Role.Member, decision.Role);
        Assert.Equal(2, (await ScimClient.AuditAsync(server, "user.role_from_directory")).Count);
        Assert.Single(await ScimClient.AuditAsync(server, "group.member_removed"));

        await Assert.ThrowsAnyAsync<Exception>(() => roles.SyncDirectoryGroupsAsync("not an address", [], "oidc", CancellationToken.None));
    }

    [Fact]
    public async Task A_changed_mapping_takes_effect_at_start_and_is_audited_and_a_bad_one_stops_the_start()
    {
        using var folder = new TempDirectory();
        var database = folder.File("pilotage.db");
        await using (var first = await PilotageTestServer.StartAsync(database))
        {
            await first.CreateUserWithKeyAsync("omar@example.org", "member", "risk-office");
        }
        var map = DirectoryRoleMap.Parse([new("risk-office", "auditor")], []);
        await using (var second = await PilotageTestServer.StartAsync(database, configure: o => o with { DirectoryRoles = map }))
        {
            var view = await second.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users/omar@example.org");
            Assert.Equal("auditor", view.GetProperty("role").GetString());
            Assert.Contains("rule risk-office → auditor", view.GetProperty("roleReason").GetString(), StringComparison.Ordinal);
            var audit = Assert.Single(await ScimClient.AuditAsync(second, "user.role_from_directory"));
            Assert.Equal(DirectoryRoles.MappingActor, audit.Actor);
        }
        // The mapping removed: back to the role the admin gave, audited as well.
        await using (var third = await PilotageTestServer.StartAsync(database))
        {
            var view = await third.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users/omar@example.org");
            Assert.Equal("member", view.GetProperty("role").GetString());
            Assert.Equal(2, (await ScimClient.AuditAsync(third, "user.role_from_directory")).Count);
            Assert.Equal(HttpStatusCode.OK, (await third.Admin.GetAsync("/api/v1/audit/verify")).StatusCode);
        }
        Assert.Throws<ArgumentException>(() => DirectoryRoleMap.Parse([new("risk-office", "superuser")], []));
    }
}
