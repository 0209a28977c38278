using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Pilotage.Core.Access;
using Pilotage.Server.People;
using Pilotage.Server.Tests.Scim;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.People;

/// <summary>
/// A changed group → role mapping applied at start-up, audited (the paths that change groups are tested with them:
/// the API in People, SCIM in Scim, tokens and sign-ins in Identity/DirectoryPeopleTests).
/// </summary>
public sealed class DirectoryRolesTests
{
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
