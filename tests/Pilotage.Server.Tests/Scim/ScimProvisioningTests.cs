using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Dashboard;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Scim;

/// <summary>
/// SCIM 2.0 provisioning against a real server: the directory creates, finds, groups and deactivates people, and
/// the gateway, the API and the dashboard follow on the very next request.
/// </summary>
public sealed class ScimProvisioningTests
{
    [Fact]
    public async Task Without_the_token_or_with_another_nothing_is_answered()
    {
        await using var h = await ScimClient.StartAsync();
        var before = await ScimClient.CountAsync(h.Server);
        var body = """{"userName":"eve@example.org"}""";
        ScimClient.AssertError(HttpStatusCode.Unauthorized, null, await ScimClient.For(h.Server, null).SendAsync(HttpMethod.Post, "/Users", body));
        ScimClient.AssertError(HttpStatusCode.Unauthorized, null, await ScimClient.For(h.Server, ScimClient.Token + "x").SendAsync(HttpMethod.Post, "/Users", body));
        ScimClient.AssertError(HttpStatusCode.Unauthorized, null, await ScimClient.For(h.Server, ScimClient.Token[..^1]).SendAsync(HttpMethod.Get, "/Users"));
        // A person's key, even the admin's, is not the provisioning client's token.
        ScimClient.AssertError(HttpStatusCode.Unauthorized, null, await ScimClient.For(h.Server, PilotageTestServer.AdminToken).SendAsync(HttpMethod.Get, "/Users"));
        Assert.Equal(before, await ScimClient.CountAsync(h.Server));

        // Without PILOTAGE_SCIM_TOKEN, SCIM is off and says so.
        await using var off = await PilotageTestServer.StartAsync();
        var refused = await ScimClient.For(off, ScimClient.Token).SendAsync(HttpMethod.Get, "/Users");
        ScimClient.AssertError(HttpStatusCode.Unauthorized, null, refused);
        Assert.Contains("PILOTAGE_SCIM_TOKEN", refused.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_too_short_stops_the_start()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => PilotageTestServer.StartAsync(configure: o => o with { ScimToken = "short" }));
        Assert.Contains("PILOTAGE_SCIM_TOKEN must be 32", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_provisioned_user_joins_the_stage_group_is_admitted_and_once_deactivated_is_refused_at_once_everywhere()
    {
        await using var h = await ScimClient.StartAsync();
        var scim = ScimClient.For(h.Server);
        var id = await scim.CreateUserAsync("sam@example.org");

        var (status, found) = await scim.SendAsync(HttpMethod.Get, $"/Users?filter={Uri.EscapeDataString("userName eq \"SAM@example.org\"")}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, found.GetProperty("totalResults").GetInt32());
        var user = found.GetProperty("Resources")[0];
        Assert.Equal(id, user.GetProperty("id").GetString());
        Assert.Equal("ext-sam@example.org", user.GetProperty("externalId").GetString());
        Assert.True(user.GetProperty("active").GetBoolean());

        // An admin gives Sam a Pilotage key; outside the pilot's group the gateway refuses him.
        var key = await h.Server.CreateKeyAsync("sam@example.org");
        Assert.Equal((HttpStatusCode.Forbidden, "not_in_allowed_group"), await ScimClient.ChatAsync(h.Server, key));

        // The directory puts him in the pilot group (Entra ID's PATCH shape): admitted on the next request.
        var group = await scim.GroupIdAsync(GatewayHarnessGroup);
        await scim.PatchAsync($"/Groups/{group}", $$"""[{"op":"Add","path":"members","value":[{"value":"{{id}}"}]}]""");
        Assert.Equal((HttpStatusCode.OK, ""), await ScimClient.ChatAsync(h.Server, key));
        var (_, groupNow) = await scim.SendAsync(HttpMethod.Get, $"/Groups/{group}");
        Assert.Contains(groupNow.GetProperty("members").EnumerateArray(), m => m.GetProperty("value").GetString() == id);

        // He signs in to the dashboard with his key.
        var session = new DashboardFixture.Session(h.Server.Url);
        using (var signIn = await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = key })) Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal(1, await SessionsOfAsync(h.Server, "sam@example.org"));
        using (var page = await session.GetAsync("/dashboard/me")) Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var api = h.Server.ClientFor(key);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/me")).StatusCode);

        // Entra ID deactivates with active as the string "False".
        await scim.PatchAsync($"/Users/{id}", """[{"op":"Replace","path":"active","value":"False"}]""");
        Assert.Equal((HttpStatusCode.Unauthorized, "account_deactivated"), await ScimClient.ChatAsync(h.Server, key));
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(0, await SessionsOfAsync(h.Server, "sam@example.org"));
        using (var page = await session.GetAsync("/dashboard/me"))
        {
            Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
            Assert.Contains("/dashboard/sign-in", page.Headers.Location!.ToString(), StringComparison.Ordinal);
        }
        var (_, after) = await scim.SendAsync(HttpMethod.Get, $"/Users/{id}");
        Assert.False(after.GetProperty("active").GetBoolean());
        Assert.Contains(await ScimClient.AuditAsync(h.Server, "user.updated"), a => a.Actor == "scim" && a.Subject == "user:sam@example.org");

        // Reactivated, then deleted: DELETE refuses the key too and takes him out of every group.
        await scim.PatchAsync($"/Users/{id}", """[{"op":"replace","value":{"active":true}}]""");
        Assert.Equal((HttpStatusCode.OK, ""), await ScimClient.ChatAsync(h.Server, key));
        Assert.Equal(HttpStatusCode.NoContent, (await scim.SendAsync(HttpMethod.Delete, $"/Users/{id}")).Status);
        Assert.Equal((HttpStatusCode.Unauthorized, "account_deactivated"), await ScimClient.ChatAsync(h.Server, key));
        var (_, deleted) = await scim.SendAsync(HttpMethod.Get, $"/Users/{id}");
        Assert.False(deleted.TryGetProperty("groups", out _));
    }

    private const string GatewayHarnessGroup = Gateway.GatewayHarness.Group;

    [Fact]
    public async Task A_mapped_directory_group_makes_someone_reviewer_then_admin_visibly_and_audited_and_leaving_restores_the_admins_choice()
    {
        await using var h = await ScimClient.StartAsync();
        var scim = ScimClient.For(h.Server);
        var id = await scim.CreateUserAsync("rae@example.org");
        var (created, group) = await scim.SendAsync(HttpMethod.Post, "/Groups",
            $$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"AI Reviewers","externalId":"g-1","members":[{"value":"{{id}}"}]}""");
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal("AI Reviewers", group.GetProperty("displayName").GetString());

        var view = await h.Server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users/rae@example.org");
        Assert.Equal("reviewer", view.GetProperty("role").GetString());
        Assert.Equal("ai-reviewers", view.GetProperty("roleGroup").GetString());
        Assert.Equal("member", view.GetProperty("assignedRole").GetString());
        Assert.Contains("rule ai-reviewers → reviewer", view.GetProperty("roleReason").GetString(), StringComparison.Ordinal);
        var audit = Assert.Single(await ScimClient.AuditAsync(h.Server, "user.role_from_directory"));
        Assert.Equal("scim", audit.Actor);
        Assert.Contains("ai-reviewers", audit.After, StringComparison.Ordinal);
        Assert.Contains("\"role\":\"reviewer\"", audit.After, StringComparison.Ordinal);

        // The API's own group changes go through the same mapping: pilotage-admins makes her admin, key and all.
        (await h.Server.Admin.PostAsJsonAsync("/api/v1/groups", new { name = "pilotage-admins" })).EnsureSuccessStatusCode();
        (await h.Server.Admin.PutAsync("/api/v1/groups/pilotage-admins/members/rae@example.org", null)).EnsureSuccessStatusCode();
        var key = await h.Server.CreateKeyAsync("rae@example.org");
        var me = await h.Server.ClientFor(key).GetFromJsonAsync<JsonElement>("/api/v1/me");
        Assert.Equal("admin", me.GetProperty("role").GetString());
        Assert.Equal(HttpStatusCode.OK, (await h.Server.ClientFor(key).GetAsync("/api/v1/users")).StatusCode);
        Assert.Equal(2, (await ScimClient.AuditAsync(h.Server, "user.role_from_directory")).Count);

        // An admin's change of role is her assigned role; the mapping still decides while she is in a mapped group.
        (await h.Server.Admin.PatchAsJsonAsync("/api/v1/users/rae@example.org", new { role = "owner" })).EnsureSuccessStatusCode();
        view = await h.Server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users/rae@example.org");
        Assert.Equal(("admin", "owner"), (view.GetProperty("role").GetString(), view.GetProperty("assignedRole").GetString()));

        // Out of both groups (SCIM remove by path filter, then the API), she is back to the admin's choice.
        await scim.PatchAsync($"/Groups/{group.GetProperty("id").GetString()}", $$"""[{"op":"remove","path":"members[value eq \"{{id}}\"]"}]""");
        (await h.Server.Admin.DeleteAsync("/api/v1/groups/pilotage-admins/members/rae@example.org")).EnsureSuccessStatusCode();
        view = await h.Server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users/rae@example.org");
        Assert.Equal("owner", view.GetProperty("role").GetString());
        Assert.Contains("given by an admin", view.GetProperty("roleReason").GetString(), StringComparison.Ordinal);
        var last = (await ScimClient.AuditAsync(h.Server, "user.role_from_directory"))[^1];
        Assert.Contains("\"role\":\"owner\"", last.After, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_cannot_make_anyone_admin_through_attributes_that_are_not_mapped()
    {
        await using var h = await ScimClient.StartAsync();
        var scim = ScimClient.For(h.Server);
        var id = await scim.CreateUserAsync("mal@example.org", ""","roles":[{"value":"admin","primary":true}],"entitlements":[{"value":"admin"}],"userType":"admin","groups":[{"value":"1","display":"pilotage-admins"}]""");
        await scim.PatchAsync($"/Users/{id}", """[{"op":"add","path":"roles","value":[{"value":"admin"}]},{"op":"replace","value":{"roles":[{"value":"admin"}],"title":"admin"}},{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"x"}]""");
        // A group named after a role gives nothing: only the operator's mapping names groups that give roles.
        var (status, _) = await scim.SendAsync(HttpMethod.Post, "/Groups", $$"""{"displayName":"admin","members":[{"value":"{{id}}"}]}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var view = await h.Server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users/mal@example.org");
        Assert.Equal("member", view.GetProperty("role").GetString());
        Assert.Empty(await ScimClient.AuditAsync(h.Server, "user.role_from_directory"));
        var key = await h.Server.CreateKeyAsync("mal@example.org");
        Assert.Equal(HttpStatusCode.Forbidden, (await h.Server.ClientFor(key).GetAsync("/api/v1/users")).StatusCode);
    }

    [Theory]
    [InlineData("{\"userName\": ")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"userName\":\"x@example.org\",\"active\":\"maybe\"}")]
    [InlineData("{\"userName\":\"x@example.org\",\"emails\":\"not-a-list\"}")]
    [InlineData("{\"userName\":\"not an address\"}")]
    [InlineData("null")]
    public async Task Malformed_users_are_refused_with_a_scim_error_and_change_nothing(string body)
    {
        await using var h = await ScimClient.StartAsync();
        var before = await ScimClient.CountAsync(h.Server);
        var answer = await ScimClient.For(h.Server).SendAsync(HttpMethod.Post, "/Users", body);
        ScimClient.AssertError(HttpStatusCode.BadRequest, null, answer);
        Assert.Contains(answer.Body.GetProperty("scimType").GetString(), new[] { "invalidSyntax", "invalidValue" });
        Assert.Equal(before, await ScimClient.CountAsync(h.Server));
    }

    [Fact]
    public async Task A_bad_patch_changes_nothing_not_even_the_operations_before_it()
    {
        await using var h = await ScimClient.StartAsync();
        var scim = ScimClient.For(h.Server);
        var id = await scim.CreateUserAsync("pat@example.org");
        var before = await ScimClient.CountAsync(h.Server);
        await scim.PatchAsync($"/Users/{id}", """[{"op":"replace","path":"active","value":false},{"op":"explode","path":"active"}]""", HttpStatusCode.BadRequest);
        await scim.PatchAsync($"/Users/{id}", """[{"op":"replace","path":"active","value":false},{"op":"replace","path":"active","value":{"a":1}}]""", HttpStatusCode.BadRequest);
        await scim.PatchAsync($"/Users/{id}", """[{"op":"replace","path":"userName","value":"other@example.org"}]""", HttpStatusCode.BadRequest);
        var (_, user) = await scim.SendAsync(HttpMethod.Get, $"/Users/{id}");
        Assert.True(user.GetProperty("active").GetBoolean());
        Assert.Equal(before, await ScimClient.CountAsync(h.Server));
        ScimClient.AssertError(HttpStatusCode.BadRequest, "mutability", await scim.SendAsync(HttpMethod.Put, $"/Users/{id}", """{"userName":"other@example.org"}"""));
        ScimClient.AssertError(HttpStatusCode.NotFound, null, await scim.SendAsync(HttpMethod.Get, "/Users/999999"));
        ScimClient.AssertError(HttpStatusCode.NotFound, null, await scim.SendAsync(HttpMethod.Get, "/Users/1%20or%201=1"));
        ScimClient.AssertError(HttpStatusCode.Conflict, "uniqueness", await scim.SendAsync(HttpMethod.Post, "/Users", """{"userName":"PAT@example.org"}"""));
    }

    [Theory]
    [InlineData("userName eq \"a@example.org\" or userName pr")]
    [InlineData("userName eq \"a@example.org\") or (1 eq 1")]
    [InlineData("userName co \"a\"")]
    [InlineData("userName sw \"\"")]
    [InlineData("emails[value eq \"a@example.org\"]")]
    [InlineData("active eq true")]
    [InlineData("userName eq a@example.org")]
    [InlineData("userName eq \"a\" and externalId eq \"b\"")]
    [InlineData("userName eq \"unterminated")]
    [InlineData("password eq \"x\"")]
    public async Task Filters_other_than_one_equality_are_refused_as_invalid(string filter)
    {
        await using var h = await ScimClient.StartAsync();
        var scim = ScimClient.For(h.Server);
        ScimClient.AssertError(HttpStatusCode.BadRequest, "invalidFilter", await scim.SendAsync(HttpMethod.Get, $"/Users?filter={Uri.EscapeDataString(filter)}"));
        ScimClient.AssertError(HttpStatusCode.BadRequest, "invalidFilter", await scim.SendAsync(HttpMethod.Get, $"/Groups?filter={Uri.EscapeDataString(filter.Replace("userName", "displayName", StringComparison.Ordinal))}"));
    }

    [Fact]
    public async Task A_quote_inside_the_value_is_part_of_the_value_and_pages_are_capped()
    {
        await using var h = await ScimClient.StartAsync();
        var scim = ScimClient.For(h.Server);
        await scim.CreateUserAsync("q@example.org");
        var (status, list) = await scim.SendAsync(HttpMethod.Get, $"/Users?filter={Uri.EscapeDataString("userName eq \"q@example.org\\\" or \\\"1\\\" eq \\\"1\"")}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, list.GetProperty("totalResults").GetInt32());

        (status, list) = await scim.SendAsync(HttpMethod.Get, "/Users?startIndex=2&count=5000");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, list.GetProperty("startIndex").GetInt32());
        Assert.Equal(list.GetProperty("totalResults").GetInt32() - 1, list.GetProperty("itemsPerPage").GetInt32());
        (status, list) = await scim.SendAsync(HttpMethod.Get, "/Users?count=1");
        Assert.Equal(1, list.GetProperty("Resources").GetArrayLength());
        ScimClient.AssertError(HttpStatusCode.BadRequest, "invalidValue", await scim.SendAsync(HttpMethod.Get, "/Users?count=lots"));
    }

    [Fact]
    public async Task A_body_over_the_cap_is_refused_before_it_is_read_whole()
    {
        await using var h = await ScimClient.StartAsync();
        var before = await ScimClient.CountAsync(h.Server);
        var huge = $$"""{"userName":"big@example.org","displayName":"{{new string('a', 2 * 1024 * 1024)}}"}""";
        ScimClient.AssertError(HttpStatusCode.RequestEntityTooLarge, null, await ScimClient.For(h.Server).SendAsync(HttpMethod.Post, "/Users", huge));
        Assert.Equal(before, await ScimClient.CountAsync(h.Server));
    }

    [Fact]
    public async Task Discovery_documents_describe_what_is_supported()
    {
        await using var h = await ScimClient.StartAsync();
        var scim = ScimClient.For(h.Server);
        var (status, config) = await scim.SendAsync(HttpMethod.Get, "/ServiceProviderConfig");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(config.GetProperty("patch").GetProperty("supported").GetBoolean());
        Assert.Equal(1000, config.GetProperty("filter").GetProperty("maxResults").GetInt32());
        Assert.Equal(2, (await scim.SendAsync(HttpMethod.Get, "/ResourceTypes")).Body.GetProperty("totalResults").GetInt32());
        Assert.Equal(2, (await scim.SendAsync(HttpMethod.Get, "/Schemas")).Body.GetProperty("Resources").GetArrayLength());
    }

    [PostgresFact]
    public async Task On_postgresql_group_membership_and_deactivation_take_effect_on_the_next_request()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var h = await Gateway.GatewayHarness.StartAsync(database: database.ConnectionString, configure: ScimClient.Configure);
        var scim = ScimClient.For(h.Server);
        var id = await scim.CreateUserAsync("pg@example.org");
        var key = await h.Server.CreateKeyAsync("pg@example.org");
        Assert.Equal((HttpStatusCode.Forbidden, "not_in_allowed_group"), await ScimClient.ChatAsync(h.Server, key));
        var group = await scim.GroupIdAsync(GatewayHarnessGroup);
        await scim.PatchAsync($"/Groups/{group}", $$"""[{"op":"add","path":"members","value":[{"value":"{{id}}"}]}]""");
        Assert.Equal((HttpStatusCode.OK, ""), await ScimClient.ChatAsync(h.Server, key));
        await scim.PatchAsync($"/Groups/{group}", $$"""[{"op":"remove","path":"members","value":[{"value":"{{id}}"}]}]""");
        Assert.Equal((HttpStatusCode.Forbidden, "not_in_allowed_group"), await ScimClient.ChatAsync(h.Server, key));
        await scim.PatchAsync($"/Users/{id}", """[{"op":"replace","value":{"active":false}}]""");
        Assert.Equal((HttpStatusCode.Unauthorized, "account_deactivated"), await ScimClient.ChatAsync(h.Server, key));
    }

    private static async Task<int> SessionsOfAsync(PilotageTestServer server, string email)
    {
        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var id = await db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync();
        return await db.DashboardSessions.CountAsync(s => s.UserId == id);
    }
}
