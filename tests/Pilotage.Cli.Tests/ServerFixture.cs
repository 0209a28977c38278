using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Pilotage.Server.Hosting;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

/// <summary>One real Pilotage server on a free port with a temp SQLite file, shared by the CLI tests.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const string AdminToken = "test-admin-token";

    private readonly TempDirectory _folder = new("pilotage-cli");
    private WebApplication? _app;

    public string Url { get; private set; } = "";

    public string DatabasePath => _folder.File("p.db");

    public async Task InitializeAsync()
    {
        _app = PilotageApp.Build(new PilotageServerOptions
        {
            Database = DatabasePath,
            Urls = "http://127.0.0.1:0",
            AdminToken = AdminToken,
            CredentialsPath = "",
            LogLevel = LogLevel.Warning,
        });
        Url = await PilotageApp.StartAsync(_app, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }
}

/// <summary>Every CLI test class shares the one server; tests use their own system and user names.</summary>
[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "pilotage server";
}
