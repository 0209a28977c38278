using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// A system owner points <c>upstream.baseUrl</c> at what the server can reach and they cannot: the cloud metadata
/// service, the unspecified address that reaches the machine itself, Pilotage's own listener; by an address, by an
/// IPv6 form of it, or by a host name that resolves there only once the spec is in (DNS rebinding).
/// </summary>
public sealed class UpstreamAddressTests
{
    [Fact]
    public async Task Apply_refuses_link_local_unspecified_and_pilotages_own_listener_in_every_spelling()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var server = await PilotageTestServer.StartAsync();
        var self = new Uri(server.Url).Port;
        string[] refused =
        [
            "http://169.254.169.254/latest/meta-data",
            "http://169.254.170.2/v1",
            "http://2852039166/v1",
            "http://0xa9fea9fe/v1",
            "http://0251.0376.0251.0376/v1",
            "http://[fe80::1]/v1",
            "http://0.0.0.0:11434/v1",
            "http://0.1.2.3/v1",
            "http://[::]:11434/v1",
            "http://[::ffff:169.254.169.254]/v1",
            "http://[::ffff:a9fe:a9fe]/v1",
            "http://[::169.254.169.254]/v1",
            "http://[64:ff9b::a9fe:a9fe]/v1",
            "http://[::ffff:0.0.0.0]/v1",
            $"http://127.0.0.1:{self}/v1",
            $"http://127.0.0.2:{self}/v1",
            $"http://localhost:{self}/v1",
            $"http://LocalHost:{self}/v1",
            $"http://[::1]:{self}/v1",
            $"http://[::ffff:127.0.0.1]:{self}/v1",
        ];
        foreach (var url in refused)
        {
            var response = await UpstreamSecretTests.ApplyAsync(server.Admin, UpstreamSecretTests.Spec(url, null));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{url}: {(int)response.StatusCode} {body}");
            Assert.Contains("\"path\":\"spec.upstream.baseUrl\"", body, StringComparison.Ordinal);
            Assert.Contains("upstream.baseUrl", JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.True(body.Contains("link-local", StringComparison.Ordinal) || body.Contains("unspecified", StringComparison.Ordinal) || body.Contains("Pilotage's own listener", StringComparison.Ordinal), $"{url}: {body}");
        }
        // Loopback and private ranges stay allowed: self-hosted models live there.
        foreach (var url in new[] { upstream.BaseUrl, "http://10.0.0.7:8000/v1", "http://192.168.1.20/v1", "http://[fd00::7]:8000/v1", "http://localhost:11434/v1" })
        {
            var response = await UpstreamSecretTests.ApplyAsync(server.Admin, UpstreamSecretTests.Spec(url, null));
            Assert.True(response.IsSuccessStatusCode, $"{url}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task A_name_that_resolves_to_the_metadata_service_only_when_connecting_is_refused_there_with_a_502()
    {
        var dns = new FlippingDns();
        await using var h = await GatewayHarness.StartAsync(mode: "full", configure: o => o with { UpstreamResolver = dns.ResolveAsync });
        var upstream = h.Upstream;
        var port = new Uri(upstream.BaseUrl).Port;
        dns.Answer = [IPAddress.Loopback];
        await h.Server.ApplyAsync(UpstreamSecretTests.Spec($"http://models.rebind.test:{port}/v1", null), h.Owner);
        Assert.Contains("models.rebind.test", dns.Asked);

        // The name now answers with the metadata service, in IPv4 and in IPv4-mapped IPv6.
        foreach (var rebound in new[] { IPAddress.Parse("169.254.169.254"), IPAddress.Parse("::ffff:169.254.169.254") })
        {
            dns.Answer = [rebound];
            var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hello"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadGateway, body);
            var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
            Assert.Equal("upstream_address_refused", error.GetProperty("code").GetString());
            Assert.Equal("upstream_error", error.GetProperty("type").GetString());
            Assert.Contains("models.rebind.test (", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Contains("link-local", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
            Assert.Equal(("failed", "upstream_address_refused"), (record.Outcome, record.RefusalCode));
        }
        Assert.Empty(upstream.Received);

        // Back on an allowed address, the same system is served.
        dns.Answer = [IPAddress.Loopback];
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hello"))).StatusCode);
        Assert.Single(upstream.Received);
    }

    [Fact]
    public async Task A_stored_upstream_that_is_now_pilotages_own_listener_is_refused_when_connecting_by_localhost()
    {
        using var folder = new TempDirectory();
        var database = folder.File("pilotage.db");
        var port = ServerProcess.FreePort();
        string memberKey;
        await using (var first = await PilotageTestServer.StartAsync(database))
        {
            // A free port when applied; the server itself listens there after its restart.
            await first.ApplyAsync(UpstreamSecretTests.Spec($"http://localhost:{port}/v1", null));
            memberKey = await first.CreateUserWithKeyAsync("mia@example.org", "member", GatewayHarness.Group);
            Assert.True((await first.Admin.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/decisions", new { outcome = "pilot", reason = "test" })).IsSuccessStatusCode);
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await using var second = await PilotageTestServer.StartAsync(database, configure: o => o with { Urls = $"http://127.0.0.1:{port}" });
        var response = await second.ClientFor(memberKey).PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("call yourself"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadGateway, body);
        Assert.Contains("upstream_address_refused", body, StringComparison.Ordinal);
        Assert.Contains($"port {port} is Pilotage's own listener", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_operators_list_narrows_upstreams_and_never_widens_them_to_what_is_always_refused()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using (var server = await PilotageTestServer.StartAsync(configure: o => o with { UpstreamAllow = ["10.0.0.0/8", "api.openai.com"] }))
        {
            var response = await UpstreamSecretTests.ApplyAsync(server.Admin, UpstreamSecretTests.Spec(upstream.BaseUrl, null));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, body);
            Assert.Contains("not in this server's list of upstream addresses (10.0.0.0/8, api.openai.com)", body, StringComparison.Ordinal);
            Assert.Contains("--upstream-allow", body, StringComparison.Ordinal);
            Assert.True((await UpstreamSecretTests.ApplyAsync(server.Admin, UpstreamSecretTests.Spec("http://10.1.2.3:8000/v1", null))).IsSuccessStatusCode);
        }
        await using (var h = await GatewayHarness.StartAsync(mode: "full", configure: o => o with { UpstreamAllow = ["127.0.0.1/32", "169.254.0.0/16"] }))
        {
            Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hello"))).StatusCode);
            var metadata = await UpstreamSecretTests.ApplyAsync(h.Server.Admin, UpstreamSecretTests.Spec("http://169.254.169.254/v1", null));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, metadata.StatusCode);
            Assert.Contains("link-local", await metadata.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("--upstream-allow", "10.0.0.0/33")]
    [InlineData("--upstream-allow", "not a host")]
    [InlineData("--upstream-secret", "PILOTAGE_ADMIN_TOKEN")]
    [InlineData("--upstream-secret", "OPENAI_API_KEY=")]
    public async Task A_list_entry_that_cannot_be_read_stops_the_start_with_its_name(string setting, string entry)
    {
        var failure = await Assert.ThrowsAsync<ArgumentException>(() => PilotageTestServer.StartAsync(configure: o => setting == "--upstream-allow"
            ? o with { UpstreamAllow = [entry] }
            : o with { UpstreamSecrets = [entry] }));
        Assert.Contains(setting, failure.Message, StringComparison.Ordinal);
    }

    /// <summary>A DNS server the test controls: what a name resolves to changes between the apply and the call.</summary>
    private sealed class FlippingDns
    {
        public IPAddress[] Answer { get; set; } = [];
        public System.Collections.Concurrent.ConcurrentBag<string> Asked { get; } = [];

        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
        {
            Asked.Add(host);
            return host.EndsWith(".rebind.test", StringComparison.Ordinal) ? Task.FromResult(Answer) : Upstreams.UpstreamPolicy.SystemResolver(host, ct);
        }
    }
}
