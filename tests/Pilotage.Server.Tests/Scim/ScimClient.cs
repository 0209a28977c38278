using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Core.Access;
using Pilotage.Server.Hosting;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Scim;

/// <summary>A provisioning client as Entra ID, Okta or Keycloak would be, speaking raw SCIM JSON to a real server.</summary>
internal sealed class ScimClient(HttpClient http)
{
    public const string Token = "scim-test-token-0123456789abcdefghijklmnopqrstuvwxyz";

    /// <summary>The mapping the tests use: two directory groups give roles.</summary>
    public static readonly DirectoryRoleMap Roles = DirectoryRoleMap.Parse(
        [new("ai-reviewers", "reviewer"), new("pilotage-admins", "admin")],
        [new("8f1c6a0e-2b1d-4c55-9a57-0c2f5b1e9d11", "ai-reviewers")]);

    public static PilotageServerOptions Configure(PilotageServerOptions o) => o with { ScimToken = Token, DirectoryRoles = Roles };

    public static Task<GatewayHarness> StartAsync() => GatewayHarness.StartAsync(configure: Configure);

    public static ScimClient For(Pilotage.Testing.PilotageTestServer server, string? token = Token) => new(server.ClientFor(token));

    public HttpClient Http => http;

    public async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, "/scim/v2" + path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/scim+json");
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (text.Length > 0) Assert.StartsWith("application/scim+json", response.Content.Headers.ContentType?.MediaType ?? "", StringComparison.Ordinal);
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public async Task<string> CreateUserAsync(string email, string extra = "")
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "/Users", $$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{email}}","externalId":"ext-{{email}}",
             "name":{"givenName":"Sam","familyName":"Doe"},"emails":[{"value":"{{email}}","primary":true,"type":"work"}],"active":true{{extra}}}
            """);
        Assert.True(status == HttpStatusCode.Created, body.ToString());
        return body.GetProperty("id").GetString()!;
    }

    public async Task<string> GroupIdAsync(string displayName)
    {
        var (status, body) = await SendAsync(HttpMethod.Get, $"/Groups?filter={Uri.EscapeDataString($"displayName eq \"{displayName}\"")}");
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("Resources")[0].GetProperty("id").GetString()!;
    }

    public async Task PatchAsync(string resource, string operations, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var (status, body) = await SendAsync(HttpMethod.Patch, resource,
            $$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":{{operations}}}""");
        Assert.True(status == expected, $"{status}: {body}");
    }

    public static void AssertError(HttpStatusCode expected, string? scimType, (HttpStatusCode Status, JsonElement Body) answer)
    {
        Assert.True(answer.Status == expected, $"{answer.Status}: {answer.Body}");
        Assert.Equal("urn:ietf:params:scim:api:messages:2.0:Error", answer.Body.GetProperty("schemas")[0].GetString());
        Assert.Equal(((int)expected).ToString(System.Globalization.CultureInfo.InvariantCulture), answer.Body.GetProperty("status").GetString());
        if (scimType is not null) Assert.Equal(scimType, answer.Body.GetProperty("scimType").GetString());
        Assert.False(string.IsNullOrWhiteSpace(answer.Body.GetProperty("detail").GetString()));
    }

    public static async Task<(HttpStatusCode Status, string Code)> ChatAsync(Pilotage.Testing.PilotageTestServer server, string key)
    {
        using var client = new HttpClient { BaseAddress = new Uri(server.Url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hello"));
        if (response.IsSuccessStatusCode) return (response.StatusCode, "");
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (response.StatusCode, json.GetProperty("error").GetProperty("code").GetString()!);
    }

    public static async Task<List<AuditEntryRow>> AuditAsync(Pilotage.Testing.PilotageTestServer server, string action)
    {
        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        return await db.AuditEntries.AsNoTracking().Where(a => a.Action == action).OrderBy(a => a.Sequence).ToListAsync();
    }

    public static async Task<int> CountAsync(Pilotage.Testing.PilotageTestServer server)
    {
        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        return await db.Users.CountAsync() + await db.Groups.CountAsync() + await db.Memberships.CountAsync() + await db.AuditEntries.CountAsync();
    }
}
