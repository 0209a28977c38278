using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Core.Access;
using Pilotage.Server.Identity;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Identity;

/// <summary>
/// Groups a provider's token names go through the operator's group → role mapping like groups from SCIM or the API:
/// a directory group makes someone a reviewer, an Entra-style group id is translated to its name, leaving the group
/// takes the role back, and every change of rights is audited.
/// </summary>
public sealed class TokenRoleMappingTests
{
    private const string EntraReviewersId = "0f6a3c1e-4b2d-4c8e-9a7f-2d5b8e1c3a90";

    [OidcFact]
    public async Task A_mapped_group_in_a_token_gives_its_role_and_leaving_it_takes_the_role_back()
    {
        await using var provider = await OidcProvider.StartAsync();
        var map = DirectoryRoleMap.Parse(
            [new("ai-reviewers", "reviewer")],
            [new(EntraReviewersId, "ai-reviewers")]);
        await using var h = await GatewayHarness.StartAsync(mode: "full", configure: o => o with
        {
            Oidc = new OidcOptions { Authority = new Uri(provider.Issuer), Audience = OidcProvider.Audience, MinimumKeyRefreshInterval = TimeSpan.Zero },
            DirectoryRoles = map,
        });

        // The token names the reviewers' group by its object id, as Entra does.
        await provider.AddAccountAsync("noor", "noor@example.org", "support-pilot", EntraReviewersId);
        using (var first = await h.Server.ClientFor(await provider.TokenAsync("noor")).GetAsync("/api/v1/me"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        var user = await h.Server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users/noor@example.org");
        Assert.Equal("reviewer", user.GetProperty("role").GetString());
        Assert.Contains("ai-reviewers", user.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));

        // Out of the group in the directory: the next token takes the role back.
        await provider.AddAccountAsync("noor", "noor@example.org", "support-pilot");
        using (var second = await h.Server.ClientFor(await provider.TokenAsync("noor")).GetAsync("/api/v1/me"))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }
        user = await h.Server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users/noor@example.org");
        Assert.DoesNotContain("ai-reviewers", user.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal("member", user.GetProperty("role").GetString());

        await using var db = h.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var changes = await db.AuditEntries.Where(a => a.Action == "user.role_from_directory" && a.Subject == "user:noor@example.org").ToListAsync();
        Assert.Equal(2, changes.Count);
        Assert.Contains(changes, c => c.After!.Contains("ai-reviewers", StringComparison.Ordinal) && c.After.Contains("\"via\":\"token\"", StringComparison.Ordinal));
    }
}
