using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Pilotage.Server.Hosting;

namespace Pilotage.Testing;

/// <summary>
/// A real Pilotage server on Kestrel at 127.0.0.1 with a random port, on a temporary SQLite file
/// or a given PostgreSQL database, with a known admin token.
/// </summary>
public sealed class PilotageTestServer : IAsyncDisposable
{
    public const string AdminToken = "test-admin-token";

    private readonly TempDirectory? _folder;
    private readonly List<HttpClient> _clients = [];

    private PilotageTestServer(WebApplication app, string url, string database, TempDirectory? folder)
    {
        App = app;
        Url = url;
        Database = database;
        _folder = folder;
        Admin = ClientFor(AdminToken);
        Anonymous = ClientFor(null);
    }

    public WebApplication App { get; }
    public string Url { get; }
    /// <summary>The SQLite file path or PostgreSQL connection string the server uses.</summary>
    public string Database { get; }
    public HttpClient Admin { get; }
    public HttpClient Anonymous { get; }

    /// <param name="database">Null: a new SQLite file in a temporary folder.</param>
    public static async Task<PilotageTestServer> StartAsync(string? database = null, TimeProvider? time = null, TextWriter? announce = null, Func<PilotageServerOptions, PilotageServerOptions>? configure = null)
    {
        TempDirectory? folder = null;
        if (database is null)
        {
            folder = new TempDirectory();
            database = folder.File("pilotage.db");
        }
        var options = new PilotageServerOptions
        {
            Database = database,
            Urls = "http://127.0.0.1:0",
            AdminToken = AdminToken,
            CredentialsPath = "",
            LogLevel = LogLevel.Warning,
            Time = time,
            Announce = announce ?? TextWriter.Null,
        };
        var app = PilotageApp.Build(configure is null ? options : configure(options));
        string url;
        try
        {
            url = await PilotageApp.StartAsync(app, CancellationToken.None);
        }
        catch
        {
            // A start that fails (tests check that some do) leaves nothing listening or running behind it.
            await app.StopAsync();
            await app.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder?.Dispose();
            throw;
        }
        return new PilotageTestServer(app, url, database, folder);
    }

    public HttpClient ClientFor(string? token)
    {
        var client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _clients.Add(client);
        return client;
    }

    /// <summary>Creates a user with the role and groups and returns a fresh key for them.</summary>
    public async Task<string> CreateUserWithKeyAsync(string email, string role, params string[] groups)
    {
        var created = await Admin.PostAsJsonAsync("/api/v1/users", new { email, role, groups });
        if (!created.IsSuccessStatusCode) throw new InvalidOperationException($"creating {email}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        return await CreateKeyAsync(email);
    }

    public async Task<string> CreateKeyAsync(string email, DateTimeOffset? expiresAt = null)
    {
        var key = await Admin.PostAsJsonAsync("/api/v1/keys", new { user = email, expiresAt });
        if (!key.IsSuccessStatusCode) throw new InvalidOperationException($"key for {email}: {(int)key.StatusCode} {await key.Content.ReadAsStringAsync()}");
        using var body = JsonDocument.Parse(await key.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("key").GetString()!;
    }

    /// <summary>Applies raw YAML as the admin and returns the response body.</summary>
    public async Task<JsonElement> ApplyAsync(string yaml, HttpClient? client = null)
    {
        using var content = new StringContent(yaml, System.Text.Encoding.UTF8, "application/yaml");
        var response = await (client ?? Admin).PostAsync("/api/v1/systems/apply", content);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"apply: {(int)response.StatusCode} {text}");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients) client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        // Pooled SQLite connections keep the file open; clear them so the folder can be deleted.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder?.Dispose();
    }
}
