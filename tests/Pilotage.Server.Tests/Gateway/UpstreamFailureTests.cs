using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// An upstream that fails (refused connection, unknown name, no answer in time, 5xx) is a gateway error
/// that names the upstream's host and how long the call took, and a Warning in the server's log with the
/// system, host, status and elapsed milliseconds. Never the upstream key, a path or a query string.
/// </summary>
public sealed partial class UpstreamFailureTests
{
    private const string Secret = "sk-upstream-secret-4711";

    private static async Task<(GatewayHarness Harness, CapturingLoggerProvider Logs, string KeyVariable)> StartAsync(string mode = "full")
    {
        var logs = new CapturingLoggerProvider();
        var harness = await GatewayHarness.StartAsync(mode, configure: o => o with { LoggerProviders = [logs] });
        var variable = "UPSTREAM_FAILURE_TEST_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant() + "_API_KEY";
        Environment.SetEnvironmentVariable(variable, Secret);
        return (harness, logs, variable);
    }

    private static Task<System.Text.Json.JsonElement> ApplyUpstreamAsync(GatewayHarness h, string baseUrl, string variable, string more = "") =>
        h.Server.ApplyAsync(GatewayHarness.Spec(GatewayHarness.System, baseUrl, "full", "")
            .Replace("model: fake-model", $"model: fake-model\n    apiKeyEnv: {variable}{more}", StringComparison.Ordinal));

    /// <summary>The Warning line the gateway logged for this host, with its structured values.</summary>
    private static string Warning(CapturingLoggerProvider logs, string host) =>
        Assert.Single(logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("UpstreamHost=" + host + " ", StringComparison.Ordinal));

    private static void AssertNoSecrets(string text)
    {
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("deployment=", text, StringComparison.Ordinal);
        Assert.DoesNotContain("/v1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_connection_names_the_host_and_the_time_taken_and_is_logged_as_a_warning()
    {
        var (h, logs, variable) = await StartAsync();
        await using var _ = h;
        var port = ClosedPort();
        await ApplyUpstreamAsync(h, $"http://127.0.0.1:{port}/v1?deployment=internal-name", variable);

        var (status, code, message, _) = await GatewayRefusalTests.SendAsync(h.Member, GatewayHarness.ChatBody("hi"));

        Assert.Equal((HttpStatusCode.BadGateway, "upstream_unreachable"), (status, code));
        Assert.Contains($"at 127.0.0.1:{port}: the connection was refused", message, StringComparison.Ordinal);
        Assert.Matches(TookPattern(), message);
        AssertNoSecrets(message);
        var line = Warning(logs, $"127.0.0.1:{port}");
        Assert.Contains("System=" + GatewayHarness.System, line, StringComparison.Ordinal);
        Assert.Matches(@"ElapsedMs=\d+ ", line);
        Assert.Contains("UpstreamStatus=no response: ConnectionError", line, StringComparison.Ordinal);
        AssertNoSecrets(line);
    }

    [Fact]
    public async Task A_name_that_does_not_resolve_says_so_with_the_host()
    {
        var (h, logs, variable) = await StartAsync();
        await using var _ = h;
        const string host = "pilotage-no-such-upstream.invalid";
        await ApplyUpstreamAsync(h, $"http://{host}/v1", variable);

        var (status, code, message, _) = await GatewayRefusalTests.SendAsync(h.Member, GatewayHarness.ChatBody("hi"));

        Assert.Equal((HttpStatusCode.BadGateway, "upstream_unreachable"), (status, code));
        Assert.Contains($"could not be reached at {host}: its name does not resolve (DNS)", message, StringComparison.Ordinal);
        Assert.Matches(TookPattern(), message);
        Assert.Contains("UpstreamStatus=no response: NameResolutionError", Warning(logs, host), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_upstream_that_does_not_answer_in_time_names_the_host_and_when_the_gateway_gave_up()
    {
        var (h, logs, variable) = await StartAsync();
        await using var _ = h;
        var host = new Uri(h.Upstream.BaseUrl).Authority;
        await ApplyUpstreamAsync(h, h.Upstream.BaseUrl, variable, "\n    firstByteTimeoutSeconds: 1");
        h.Upstream.Behaviour = UpstreamBehaviour.Hang;

        var (status, code, message, _) = await GatewayRefusalTests.SendAsync(h.Member, GatewayHarness.ChatBody("hi"));

        Assert.Equal((HttpStatusCode.GatewayTimeout, "upstream_timeout"), (status, code));
        Assert.Contains($"at {host} did not answer within 1 s (gave up after ", message, StringComparison.Ordinal);
        // How long it took is the machine's: about the second waited for ("998 ms" or "1.0 s": timers and clocks differ by a few ms).
        var gaveUp = GaveUpPattern().Match(message);
        Assert.True(gaveUp.Success, message);
        var seconds = gaveUp.Groups["ms"].Success
            ? double.Parse(gaveUp.Groups["ms"].Value, System.Globalization.CultureInfo.InvariantCulture) / 1000
            : double.Parse(gaveUp.Groups["s"].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 0.9, 30);
        var line = Warning(logs, host);
        Assert.Contains("UpstreamStatus=timeout", line, StringComparison.Ordinal);
        var elapsed = long.Parse(ElapsedPattern().Match(line).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(elapsed, 900, 30_000);
    }

    [Fact]
    public async Task A_5xx_from_the_upstream_names_the_host_the_status_and_the_time_and_is_logged()
    {
        var (h, logs, variable) = await StartAsync();
        await using var _ = h;
        var host = new Uri(h.Upstream.BaseUrl).Authority;
        await ApplyUpstreamAsync(h, h.Upstream.BaseUrl, variable);
        h.Upstream.Behaviour = UpstreamBehaviour.ServerError;

        var (status, code, message, _) = await GatewayRefusalTests.SendAsync(h.Member, GatewayHarness.ChatBody("hi"));

        Assert.Equal((HttpStatusCode.BadGateway, "upstream_error"), (status, code));
        Assert.Matches($@"at {Regex.Escape(host)} failed \(500 after \d+ ms\): model overloaded", message);
        Assert.Equal($"Bearer {Secret}", Assert.Single(h.Upstream.Authorizations)); // the key went to the upstream, and nowhere else
        AssertNoSecrets(message);
        var line = Warning(logs, host);
        Assert.Contains("UpstreamStatus=500", line, StringComparison.Ordinal);
        Assert.Contains("Code=upstream_error", line, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Lines, l => l.Contains(Secret, StringComparison.Ordinal));
    }

    /// <summary>A loopback port nothing listens on: bound, then released.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [GeneratedRegex(@"\(after \d+ ms\)|\(after \d+\.\d s\)")]
    private static partial Regex TookPattern();

    [GeneratedRegex(@"\(gave up after (?:(?<ms>\d+) ms|(?<s>\d+\.\d) s)\)")]
    private static partial Regex GaveUpPattern();

    [GeneratedRegex(@"ElapsedMs=(\d+) ")]
    private static partial Regex ElapsedPattern();
}
