using System.Text.Json;
using Microsoft.Data.Sqlite;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

[Collection(ServerCollection.Name)]
public sealed class AuditCliTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _home = new("pilotage-cli-home");

    private Cli Cli => new(server, _home);

    [Fact]
    public async Task Verify_through_the_server_reports_an_intact_chain()
    {
        var verify = await Cli.RunAsync("audit", "verify");

        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Matches(@"^audit chain verified: \d+ entries, head [0-9a-f]{64}; Merkle root [0-9a-f]{64}; ", verify.Out.Trim());

        var json = (await Cli.RunAsync("audit", "verify", "--json")).Json();
        Assert.True(json.GetProperty("ok").GetBoolean());
        Assert.True(json.GetProperty("entries").GetInt64() >= 1);
    }

    [Fact]
    public async Task Verify_against_the_database_file_needs_no_server()
    {
        var environment = new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = _home.Path };

        var verify = await Cli.RunWithAsync(environment, "audit", "verify", "--db", server.DatabasePath);

        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Matches(@"^audit chain verified: \d+ entries, head [0-9a-f]{64}; Merkle root [0-9a-f]{64}; ", verify.Out.Trim());
    }

    [Fact]
    public async Task Verify_against_a_tampered_copy_names_the_bad_entry_and_fails()
    {
        var copy = _home.File("copy.db");
        await using (var source = new SqliteConnection($"Data Source={server.DatabasePath};Pooling=False"))
        {
            await source.OpenAsync();
            await using var vacuum = source.CreateCommand();
            vacuum.CommandText = $"VACUUM INTO '{copy}'";
            await vacuum.ExecuteNonQueryAsync();
        }
        await using (var tamper = new SqliteConnection($"Data Source={copy};Pooling=False"))
        {
            await tamper.OpenAsync();
            await using var update = tamper.CreateCommand();
            update.CommandText = "UPDATE audit_entries SET actor = 'mallory@example.org' WHERE sequence = 1";
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }

        var verify = await Cli.RunWithAsync(new Dictionary<string, string?>(), "audit", "verify", "--db", copy);

        Assert.Equal(1, verify.ExitCode);
        Assert.StartsWith("audit chain BROKEN at entry 1: ", verify.Out, StringComparison.Ordinal);
        Assert.StartsWith("error: audit chain BROKEN at entry 1", verify.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_against_a_missing_database_file_does_not_create_one()
    {
        var missing = _home.File("copy.db");

        var verify = await Cli.RunWithAsync(new Dictionary<string, string?>(), "audit", "verify", "--db", missing);

        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("no database file", verify.ErrorLine(), StringComparison.Ordinal);
        Assert.False(File.Exists(missing));
    }

    [Fact]
    public async Task Export_writes_json_lines_to_stdout_or_a_file()
    {
        var stdout = await Cli.RunAsync("audit", "export");
        Assert.True(stdout.ExitCode == 0, stdout.ToString());
        var lines = stdout.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(l).RootElement.ValueKind));
        Assert.Equal(1, JsonDocument.Parse(lines[0]).RootElement.GetProperty("sequence").GetInt64());

        var file = _home.File("audit.jsonl");
        var toFile = await Cli.RunAsync("audit", "export", "-o", file, "--json");
        Assert.True(toFile.ExitCode == 0, toFile.ToString());
        var entries = toFile.Json().GetProperty("entries").GetInt64();
        Assert.True(entries >= lines.Length);
        Assert.Equal(entries, File.ReadAllLines(file).Length);
        Assert.False(File.Exists(file + ".partial"));
    }

    public void Dispose() => _home.Dispose();
}
