using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Pilotage.Server.Hosting;
using Pilotage.Server.Identity;
using Pilotage.Server.Policy;

// What accepting the identity provider's access tokens costs per request, against a Pilotage key, side by side
// in one run: the check alone (in process: the key check vs a cached token check) and whole gateway requests
// (GET /v1/models over HTTP, sequential, one connection). A loopback "provider" serves discovery and a JWKS.
// Usage: dotnet run -c Release --project bench/Pilotage.Bench.Identity -- [--seconds N] [--rounds K]
var seconds = ArgValue("--seconds", 3);
var rounds = ArgValue("--rounds", 2);
const string Audience = "api://pilotage-bench";
const string AdminToken = "bench-admin-token";

using var rsa = RSA.Create(2048);
var signingKey = new RsaSecurityKey(rsa) { KeyId = "bench-key" };
await using var provider = await StartProviderAsync(signingKey);
var issuer = provider.Urls.First();

var folder = Directory.CreateTempSubdirectory("pilotage-bench-identity-");
await using var app = PilotageApp.Build(new PilotageServerOptions
{
    Database = Path.Combine(folder.FullName, "pilotage.db"),
    Urls = "http://127.0.0.1:0",
    AdminToken = AdminToken,
    CredentialsPath = "",
    LogLevel = LogLevel.Warning,
    Announce = TextWriter.Null,
    Oidc = new OidcOptions { Authority = new Uri(issuer), Audience = Audience },
});
var url = await PilotageApp.StartAsync(app, CancellationToken.None);

var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
{
    Issuer = issuer,
    Audience = Audience,
    Expires = DateTime.UtcNow.AddHours(1),
    Subject = new ClaimsIdentity([new Claim("sub", "bench"), new Claim("email", "bench@example.org")]),
    Claims = new Dictionary<string, object> { ["groups"] = Groups.Bench },
    SigningCredentials = new SigningCredentials(signingKey, SecurityAlgorithms.RsaSha256),
});
var policy = app.Services.GetRequiredService<PolicyCache>();
var tokens = app.Services.GetRequiredService<AccessTokens>();
var first = await tokens.CheckAsync(token, CancellationToken.None);
if (first.Grant is null) throw new InvalidOperationException("the bench token was refused: " + first.Message);

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Identity bench: {Environment.ProcessorCount} cores, {seconds} s per phase, {rounds} rounds"));
for (var round = 1; round <= rounds; round++)
{
    var keyNs = Time(() => policy.Current.CheckKey(AdminToken, DateTimeOffset.UtcNow).Usable is not null);
    // A remembered token completes synchronously; anything else would be a bench failure.
    var tokenNs = Time(() => Groups.Remembered(tokens.CheckAsync(token, CancellationToken.None)));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"round {round} check:   key {keyNs,8:0} ns   cached token {tokenNs,8:0} ns   token/key {tokenNs / keyNs:0.00}"));
    var keyUs = await RequestsAsync(url, AdminToken);
    var tokenUs = await RequestsAsync(url, token);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"round {round} request: key {keyUs,8:0.0} µs   token        {tokenUs,8:0.0} µs   token/key {tokenUs / keyUs:0.00}"));
}
await app.StopAsync();
Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
folder.Delete(recursive: true);
return 0;

// Nanoseconds per check, over the phase.
double Time(Func<bool> check)
{
    var watch = Stopwatch.StartNew();
    long n = 0;
    var end = TimeSpan.FromSeconds(seconds);
    while (watch.Elapsed < end)
    {
        for (var i = 0; i < 1000; i++) if (!check()) throw new InvalidOperationException("refused");
        n += 1000;
    }
    return watch.Elapsed.TotalNanoseconds / n;
}

// Microseconds per sequential GET /v1/models, over the phase (after a short warm-up).
async Task<double> RequestsAsync(string baseUrl, string bearer)
{
    using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
    for (var i = 0; i < 200; i++) (await client.GetAsync("/v1/models")).EnsureSuccessStatusCode();
    var watch = Stopwatch.StartNew();
    long n = 0;
    while (watch.Elapsed < TimeSpan.FromSeconds(seconds))
    {
        using var response = await client.GetAsync("/v1/models");
        response.EnsureSuccessStatusCode();
        n++;
    }
    return watch.Elapsed.TotalMicroseconds / n;
}

static async Task<WebApplication> StartProviderAsync(RsaSecurityKey key)
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.WebHost.UseUrls("http://127.0.0.1:0");
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    var web = builder.Build();
    var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(key.Rsa.ExportParameters(false)) { KeyId = key.KeyId });
    var jwks = JsonSerializer.Serialize(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } });
    web.MapGet("/.well-known/openid-configuration", (HttpContext http) =>
    {
        var self = $"{http.Request.Scheme}://{http.Request.Host}";
        return Results.Text(JsonSerializer.Serialize(new Dictionary<string, string> { ["issuer"] = self, ["jwks_uri"] = self + "/jwks" }), "application/json");
    });
    web.MapGet("/jwks", () => Results.Text(jwks, "application/json"));
    await web.StartAsync();
    return web;
}

int ArgValue(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

internal static class Groups
{
    public static readonly string[] Bench = ["support-pilot"];

    public static bool Remembered(ValueTask<TokenCheck> check) =>
        check.IsCompletedSuccessfully ? check.Result.Grant is not null : throw new InvalidOperationException("the token was not remembered");
}
