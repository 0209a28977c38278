using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Xunit;

namespace Pilotage.Testing;

/// <summary>
/// A real OpenID provider (<c>tests/oidc-provider/server.mjs</c>, the oidc-provider npm package) started by the test
/// on a free loopback port and stopped with it. Its accounts have e-mails and a <c>groups</c> claim (alice:
/// support-pilot, bob: finance, nomail: no e-mail); it issues JWT access tokens for an account
/// (<see cref="TokenAsync"/>) and rotates its signing key on request (<see cref="RotateKeysAsync"/>).
/// </summary>
public sealed class OidcProvider : IAsyncDisposable
{
    public const string Audience = "https://pilotage.test/api";
    public const string ClientId = "pilotage-dashboard";
    public const string ClientSecret = "dashboard-secret";

    private readonly Process _process;
    private readonly HttpClient _http;

    private OidcProvider(Process process, string issuer)
    {
        _process = process;
        Issuer = issuer;
        _http = new HttpClient { BaseAddress = new Uri(issuer), Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The issuer, <c>http://127.0.0.1:PORT</c>.</summary>
    public string Issuer { get; }

    /// <summary>Starts a provider whose dashboard client may redirect to <paramref name="redirectUris"/> (sign-in and sign-out callbacks).</summary>
    public static async Task<OidcProvider> StartAsync(IEnumerable<string>? redirectUris = null, IEnumerable<string>? postLogoutRedirectUris = null, int port = 0)
    {
        var script = OidcProviderGate.Script;
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(script)!,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add((port == 0 ? FreePort() : port).ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add("--audience");
        start.ArgumentList.Add(Audience);
        foreach (var uri in redirectUris ?? []) { start.ArgumentList.Add("--redirect-uri"); start.ArgumentList.Add(uri); }
        foreach (var uri in postLogoutRedirectUris ?? []) { start.ArgumentList.Add("--post-logout-redirect-uri"); start.ArgumentList.Add(uri); }
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new List<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.Add(e.Data);
            if (e.Data.StartsWith("listening ", StringComparison.Ordinal)) listening.TrySetResult(e.Data["listening ".Length..].Trim());
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // Generous: node loads the provider's modules in about a second, but a CI machine running the other tests in
        // parallel has been seen to take over 30 s to get there.
        var done = await Task.WhenAny(listening.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(120)));
        if (done != listening.Task)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
            string said;
            lock (output) said = string.Join('\n', output);
            throw new InvalidOperationException($"the OpenID provider ({script}) did not start:\n{said}");
        }
        return new OidcProvider(process, await listening.Task);
    }

    /// <summary>An access token (a JWT) the provider issues for <paramref name="account"/>.</summary>
    /// <param name="resource">The audience; Pilotage's by default.</param>
    /// <param name="iatOffset">Seconds to move iat and exp by (negative: a token that expired in the past).</param>
    public async Task<string> TokenAsync(string account, string? resource = null, int? ttl = null, int? iatOffset = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "urn:pilotage:test:account", ["account"] = account, ["resource"] = resource ?? Audience };
        if (ttl is { } t) form["ttl"] = t.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (iatOffset is { } o) form["iat_offset"] = o.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/token") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("pilotage-tests:tests-secret"u8.ToArray()));
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"the provider refused a token for {account}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>The provider replaces its signing key; returns the new key's id.</summary>
    public async Task<string> RotateKeysAsync()
    {
        using var response = await _http.PostAsync("/test/rotate-keys", null);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("kid").GetString()!;
    }

    /// <summary>Adds (or replaces) an account.</summary>
    public Task AddAccountAsync(string id, string? email, params string[] groups) => AddAccountAsync(id, email, true, groups);

    /// <summary>Adds (or replaces) an account whose e-mail the provider may not have verified.</summary>
    public async Task AddAccountAsync(string id, string? email, bool emailVerified, params string[] groups)
    {
        using var response = await _http.PostAsJsonAsync("/test/accounts", new { id, email, groups, emailVerified });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>A loopback port free now, for a server whose address the provider must know before it starts.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
    }
}

/// <summary>
/// Whether the identity tests can run: they need <c>node</c> and the provider's installed packages
/// (<c>npm ci</c> in tests/oidc-provider, which .ci/run does). Locally they are skipped without them; under
/// <c>CI=true</c> they are never skipped, so a missing provider fails them loudly.
/// </summary>
public static class OidcProviderGate
{
    /// <summary><c>PILOTAGE_TEST_OIDC_PROVIDER</c>, else tests/oidc-provider/server.mjs in the checkout.</summary>
    public static string Script =>
        Environment.GetEnvironmentVariable("PILOTAGE_TEST_OIDC_PROVIDER") is { Length: > 0 } path ? path : Path.Combine(RepoPaths.Root, "tests", "oidc-provider", "server.mjs");

    public static string? SkipReasonOrNull()
    {
        var ci = Environment.GetEnvironmentVariable("CI");
        if (string.Equals(ci, "true", StringComparison.OrdinalIgnoreCase) || ci == "1") return null;
        var installed = File.Exists(Path.Combine(Path.GetDirectoryName(Script)!, "node_modules", "oidc-provider", "package.json"));
        if (!installed) return "identity tests need the OpenID provider's packages: run 'npm ci' in tests/oidc-provider (.ci/run does)";
        return OnPath("node") ? null : "identity tests need Node.js ('node' on PATH) for tests/oidc-provider";
    }

    private static bool OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, name)));
}

/// <summary>A <see cref="FactAttribute"/> for tests against the real OpenID provider (see <see cref="OidcProviderGate"/>).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class OidcFactAttribute : FactAttribute
{
    public OidcFactAttribute()
    {
        if (OidcProviderGate.SkipReasonOrNull() is { } reason) Skip = reason;
    }
}

/// <summary>A test that signs in through the real OpenID provider in headless Chromium: needs both (see <see cref="OidcProviderGate"/>, <see cref="ChromiumGate"/>).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class OidcBrowserFactAttribute : FactAttribute
{
    public OidcBrowserFactAttribute()
    {
        if ((OidcProviderGate.SkipReasonOrNull() ?? ChromiumGate.SkipReasonOrNull()) is { } reason) Skip = reason;
    }
}
