using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Identity;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Identity;

/// <summary>A real OpenID provider and a Pilotage server that accepts its access tokens, shared by the tests of a class.</summary>
public sealed class ProviderAndGateway : IAsyncLifetime
{
    public OidcProvider Provider { get; private set; } = null!;
    public GatewayHarness Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (OidcProviderGate.SkipReasonOrNull() is not null) return;
        Provider = await OidcProvider.StartAsync();
        Gateway = await GatewayHarness.StartAsync(mode: "full", configure: o => o with
        {
            Oidc = new OidcOptions { Authority = new Uri(Provider.Issuer), Audience = OidcProvider.Audience, MinimumKeyRefreshInterval = TimeSpan.Zero },
        });
    }

    public async Task DisposeAsync()
    {
        if (Gateway is not null) await Gateway.DisposeAsync();
        if (Provider is not null) await Provider.DisposeAsync();
    }

    public HttpClient With(string token) => Gateway.Server.ClientFor(token);
}

/// <summary>
/// The provider's JWT access tokens on the gateway and the control API: accepted when valid, refused with the reason
/// (expired, forged signature, wrong audience, another issuer), groups from the token, keys rotated without restart.
/// </summary>
public sealed class AccessTokenTests(ProviderAndGateway f) : IClassFixture<ProviderAndGateway>
{
    private static object Chat => GatewayHarness.ChatBody("Where is my order 1234?");

    [OidcFact]
    public async Task A_provider_token_is_served_and_the_interaction_names_the_person_and_their_groups()
    {
        var token = await f.Provider.TokenAsync("alice");
        var response = await f.With(token).PostAsJsonAsync("/v1/chat/completions", Chat);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await f.Gateway.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal("alice@example.org", record.UserEmail);
        Assert.Contains("support-pilot", record.Groups, StringComparison.Ordinal);
        Assert.StartsWith("oidc:", record.KeyId, StringComparison.Ordinal);

        // Known from her first token on, without 'users add': a member, recorded in the audit log.
        var user = await f.Gateway.Server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users/alice@example.org");
        Assert.Equal("member", user.GetProperty("role").GetString());
        await using var db = f.Gateway.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "user.created" && a.Subject == "user:alice@example.org" && a.Actor.StartsWith("identity-provider:")));
    }

    [OidcFact]
    public async Task Pilotage_keys_keep_working_beside_tokens()
    {
        var response = await f.Gateway.Member.PostAsJsonAsync("/v1/chat/completions", Chat);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [OidcFact]
    public async Task An_expired_token_is_refused_with_the_reason()
    {
        // Issued two hours ago for one hour: expired an hour ago, beyond any clock skew.
        var token = await f.Provider.TokenAsync("alice", iatOffset: -7200);
        await AssertRefusedAsync(token, HttpStatusCode.Unauthorized, "token_expired", "expired");
    }

    [OidcFact]
    public async Task A_token_signed_by_another_key_with_the_providers_key_id_is_refused()
    {
        var real = await f.Provider.TokenAsync("alice");
        var parts = real.Split('.');
        using var forger = RSA.Create(2048);
        var signature = forger.SignData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var forged = parts[0] + "." + parts[1] + "." + Base64Url(signature);

        await AssertRefusedAsync(forged, HttpStatusCode.Unauthorized, "token_signature_invalid", "signature");
    }

    [OidcFact]
    public async Task An_unsigned_token_and_a_token_made_up_by_the_caller_are_refused()
    {
        var real = await f.Provider.TokenAsync("alice");
        var payload = real.Split('.')[1];
        var unsigned = Base64Url("""{"alg":"none","typ":"JWT"}"""u8.ToArray()) + "." + payload + ".";
        await AssertRefusedAsync(unsigned, HttpStatusCode.Unauthorized, null, null);

        // Made-up payload claiming to be an admin, "signed" with a secret (HS256) the caller chose.
        var header = Base64Url("""{"alg":"HS256","typ":"JWT"}"""u8.ToArray());
        var made = JsonSerializer.Serialize(new { iss = f.Provider.Issuer, aud = OidcProvider.Audience, sub = "mallory", email = "owner@example.org", exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds() });
        var claims = Base64Url(Encoding.UTF8.GetBytes(made));
        var mac = HMACSHA256.HashData("secret"u8, Encoding.ASCII.GetBytes(header + "." + claims));
        await AssertRefusedAsync(header + "." + claims + "." + Base64Url(mac), HttpStatusCode.Unauthorized, null, null);
    }

    [OidcFact]
    public async Task A_token_for_another_audience_is_refused()
    {
        var token = await f.Provider.TokenAsync("alice", resource: "https://other-app.example.org");
        await AssertRefusedAsync(token, HttpStatusCode.Unauthorized, "token_audience_invalid", "audience");
    }

    [OidcFact]
    public async Task A_token_from_another_issuer_is_refused()
    {
        await using var other = await OidcProvider.StartAsync();
        var token = await other.TokenAsync("alice");
        await AssertRefusedAsync(token, HttpStatusCode.Unauthorized, "token_issuer_untrusted", other.Issuer);
    }

    [OidcFact]
    public async Task A_token_whose_email_the_provider_has_not_verified_cannot_pass_for_that_person()
    {
        // Someone typed the owner's address into their directory profile.
        await f.Provider.AddAccountAsync("eve", "owner@example.org", false, "support-pilot");
        await AssertRefusedAsync(await f.Provider.TokenAsync("eve"), HttpStatusCode.Unauthorized, "invalid_token", "not verified");
    }

    [OidcFact]
    public async Task A_person_outside_the_stages_groups_is_refused_403()
    {
        var token = await f.Provider.TokenAsync("bob");
        await AssertRefusedAsync(token, HttpStatusCode.Forbidden, "not_in_allowed_group", null);
    }

    [OidcFact]
    public async Task Groups_follow_the_token_and_a_change_is_audited()
    {
        await f.Provider.AddAccountAsync("carol", "carol@example.org", "finance");
        await AssertRefusedAsync(await f.Provider.TokenAsync("carol"), HttpStatusCode.Forbidden, "not_in_allowed_group", null);

        await f.Provider.AddAccountAsync("carol", "carol@example.org", "support-pilot");
        var response = await f.With(await f.Provider.TokenAsync("carol")).PostAsJsonAsync("/v1/chat/completions", Chat);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var db = f.Gateway.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "user.groups_from_directory" && a.Subject == "user:carol@example.org"));
    }

    [OidcFact]
    public async Task A_person_deactivated_in_Pilotage_is_refused_even_with_a_token_seen_before()
    {
        await f.Provider.AddAccountAsync("dave", "dave@example.org", "support-pilot");
        var token = await f.Provider.TokenAsync("dave");
        Assert.Equal(HttpStatusCode.OK, (await f.With(token).PostAsJsonAsync("/v1/chat/completions", Chat)).StatusCode);

        var patch = await f.Gateway.Server.Admin.PatchAsJsonAsync("/api/v1/users/dave@example.org", new { active = false });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        await AssertRefusedAsync(token, HttpStatusCode.Unauthorized, "account_deactivated", "dave@example.org");
    }

    [OidcFact]
    public async Task After_the_provider_rotates_its_key_new_tokens_are_accepted_without_restart()
    {
        var before = await f.Provider.TokenAsync("alice");
        Assert.Equal(HttpStatusCode.OK, (await f.With(before).PostAsJsonAsync("/v1/chat/completions", Chat)).StatusCode);

        var kid = await f.Provider.RotateKeysAsync();
        var after = await f.Provider.TokenAsync("alice");
        Assert.Contains(kid, Encoding.UTF8.GetString(Base64UrlDecode(after.Split('.')[0])), StringComparison.Ordinal);
        var response = await f.With(after).PostAsJsonAsync("/v1/chat/completions", Chat);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [OidcFact]
    public async Task Me_on_the_control_API_shows_the_person_and_groups_from_the_token()
    {
        var me = await f.With(await f.Provider.TokenAsync("alice")).GetFromJsonAsync<JsonElement>("/api/v1/me");
        Assert.Equal("alice@example.org", me.GetProperty("email").GetString());
        Assert.Equal("member", me.GetProperty("role").GetString());
        Assert.Equal(["support-pilot"], me.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));

        // Without an e-mail claim, the subject names the person.
        var nomail = await f.With(await f.Provider.TokenAsync("nomail")).GetFromJsonAsync<JsonElement>("/api/v1/me");
        Assert.Equal("nomail", nomail.GetProperty("email").GetString());

        // And the API refuses a bad token with the reason, as a problem.
        var expired = await f.With(await f.Provider.TokenAsync("alice", iatOffset: -7200)).GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Contains("expired", await expired.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [OidcFact]
    public async Task An_over_long_bearer_that_is_not_a_JWT_is_still_refused()
    {
        foreach (var token in new[] { "plt_" + new string('a', 600), "eyJ" + new string('a', 9000) + ".b.c" })
        {
            await AssertRefusedAsync(token, HttpStatusCode.Unauthorized, "invalid_api_key", null);
            var api = await f.With(token).GetAsync("/api/v1/me");
            Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        }
    }

    [OidcFact]
    public async Task Anthropic_clients_get_the_refusal_in_their_shape()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = JsonContent.Create(new { model = GatewayHarness.System, max_tokens = 50, messages = new[] { new { role = "user", content = "hi" } } }),
        };
        request.Headers.Add("x-api-key", await f.Provider.TokenAsync("alice", resource: "urn:other"));
        request.Headers.Add("anthropic-version", "2023-06-01");
        var response = await f.Gateway.Server.Anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("error", body.GetProperty("type").GetString());
        Assert.Contains("audience", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private async Task AssertRefusedAsync(string token, HttpStatusCode status, string? code, string? mentions)
    {
        using var client = new HttpClient { BaseAddress = new Uri(f.Gateway.Server.Url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        if (code is not null) Assert.Equal(code, error.GetProperty("code").GetString());
        if (mentions is not null) Assert.Contains(mentions, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] Base64UrlDecode(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s + new string('=', (4 - s.Length % 4) % 4));
    }
}

/// <summary>The provider settings are checked before the server starts.</summary>
public sealed class OidcOptionsTests
{
    [Fact]
    public void A_plain_http_authority_is_refused_unless_on_a_loopback_address()
    {
        var e = Assert.Throws<ArgumentException>(() => OidcOptions.Create("http://login.example.org/realms/acme", null, null, "pilotage", null, _ => null));
        Assert.Contains("https", e.Message, StringComparison.Ordinal);
        Assert.NotNull(OidcOptions.Create("http://127.0.0.1:8080", null, null, "pilotage", null, _ => null));
        Assert.NotNull(OidcOptions.Create("https://login.example.org/realms/acme", "dash", null, null, null, _ => null));
    }

    [Fact]
    public void Missing_pieces_are_named()
    {
        Assert.Contains("--oidc-authority", Assert.Throws<ArgumentException>(() => OidcOptions.Create(null, "dash", null, null, null, _ => null)).Message, StringComparison.Ordinal);
        Assert.Contains("--oidc-client-id", Assert.Throws<ArgumentException>(() => OidcOptions.Create("https://idp.example.org", null, null, null, null, _ => null)).Message, StringComparison.Ordinal);
        Assert.Contains("SECRET_VAR", Assert.Throws<ArgumentException>(() => OidcOptions.Create("https://idp.example.org", "dash", "SECRET_VAR", null, null, _ => null)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new OidcOptions { Authority = new Uri("https://idp.example.org"), ClockSkew = TimeSpan.FromMinutes(6) }.Checked());
    }
}
