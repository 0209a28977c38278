using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Pilotage.Core.Access;
using Pilotage.Server.Identity;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Scim;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Identity;

/// <summary>
/// The one path the identity provider's tokens and sign-ins take with the groups they name (<see cref="DirectoryPeople"/>),
/// driven directly so no provider has to sign a token: a person first seen becomes known, group ids are translated,
/// the group → role mapping decides the role, and nothing is written while the groups stay the same.
/// </summary>
public sealed class DirectoryPeopleTests
{
    private static readonly OidcOptions Provider = new() { Authority = new Uri("https://login.example.org/tenant") };

    [Fact]
    public async Task Groups_a_token_names_make_the_person_known_translate_ids_and_decide_the_role_once()
    {
        await using var server = await PilotageTestServer.StartAsync(configure: ScimClient.Configure);
        var services = server.App.Services;
        using var people = new DirectoryPeople(services.GetRequiredService<ControlPlane>(), services.GetRequiredService<PolicyCache>(),
            Provider, ScimClient.Roles, NullLogger<DirectoryPeople>.Instance);

        // Entra ID puts group object ids in its tokens; the table names them.
        var person = await people.EnsureAsync("ines@example.org", ["8F1C6A0E-2B1D-4C55-9A57-0C2F5B1E9D11", "Support"], CancellationToken.None);
        Assert.Equal(Role.Reviewer, person.Role);
        Assert.Equal(["ai-reviewers", "support"], person.Groups.Order(StringComparer.Ordinal));
        var view = await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users/ines@example.org");
        Assert.Equal("reviewer", view.GetProperty("role").GetString());
        Assert.Equal("ai-reviewers", view.GetProperty("roleGroup").GetString());
        Assert.Equal(["ai-reviewers", "support"], view.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));
        var change = Assert.Single(await ScimClient.AuditAsync(server, "user.role_from_directory"));
        Assert.Equal("identity-provider:https://login.example.org/tenant", change.Actor);
        Assert.Contains("\"via\":\"token\"", change.After, StringComparison.Ordinal);
        var created = await ScimClient.AuditAsync(server, "group.created");
        Assert.Equal(["group:ai-reviewers", "group:support"], created.Select(c => c.Subject).Order(StringComparer.Ordinal));

        // The same groups again write nothing; fewer groups take the role away again, audited.
        var entries = await ScimClient.CountAsync(server);
        await people.EnsureAsync("ines@example.org", ["ai-reviewers", "support"], CancellationToken.None);
        Assert.Equal(entries, await ScimClient.CountAsync(server));
        person = await people.EnsureAsync("ines@example.org", ["support"], CancellationToken.None);
        Assert.Equal(Role.Member, person.Role);
        Assert.Equal(2, (await ScimClient.AuditAsync(server, "user.role_from_directory")).Count);
        Assert.Single(await ScimClient.AuditAsync(server, "user.groups_from_directory"));

        // A group name Pilotage cannot hold is left out rather than renamed into another group's name.
        person = await people.EnsureAsync("ines@example.org", ["support", "Support Team!"], CancellationToken.None);
        Assert.Equal(["support"], person.Groups);
    }
}
