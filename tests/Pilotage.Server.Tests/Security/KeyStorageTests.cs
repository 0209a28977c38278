using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Core.Access;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Security;

/// <summary>API keys are stored as SHA-256 hashes only, compared in constant time, and usable only within their rate.</summary>
public class KeyStorageTests
{
    [Fact]
    public async Task Only_the_hash_of_a_key_is_stored_and_no_byte_of_the_store_holds_the_key()
    {
        await using (var h = await GatewayHarness.StartAsync())
        {
            var token = h.MemberKey;
            Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
            await using (var db = h.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext())
            {
                var row = await db.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == ApiKeyToken.IdOf(token));
                Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(token)), row.SecretHash);
                var bootstrap = await db.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == ApiKeyToken.BootstrapId);
                Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(PilotageTestServer.AdminToken)), bootstrap.SecretHash);
            }
            var database = h.Server.Database;
            // Everything committed into the main file, so the scan below sees all the data.
            await using var connection = new SqliteConnection($"Data Source={database}");
            await connection.OpenAsync();
            await using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            await checkpoint.ExecuteNonQueryAsync();
            var secret = Encoding.UTF8.GetBytes(token[("plt_".Length + ApiKeyToken.IdOf(token).Length + 1)..]);
            Assert.True(secret.Length >= 40, "the secret part of the key");
            var admin = Encoding.UTF8.GetBytes(PilotageTestServer.AdminToken);
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(database)!))
            {
                if (file.EndsWith(".serving", StringComparison.Ordinal))
                {
                    // The running server's single-replica lock file: held exclusively, so it cannot be read; it is empty by design.
                    Assert.Equal(0, new FileInfo(file).Length);
                    continue;
                }
                var bytes = await File.ReadAllBytesAsync(file);
                Assert.True(bytes.AsSpan().IndexOf(secret) < 0, $"{Path.GetFileName(file)} holds the key's secret");
                Assert.True(bytes.AsSpan().IndexOf(admin) < 0, $"{Path.GetFileName(file)} holds the admin token");
            }
        }
    }

    [Fact]
    public void Keys_are_compared_in_constant_time()
    {
        var (_, token) = ApiKeyToken.Generate();
        var stored = ApiKeyToken.Hash(token);
        Assert.True(ApiKeyToken.Matches(token, stored));
        Assert.False(ApiKeyToken.Matches(token[..^1] + (token[^1] == 'a' ? 'b' : 'a'), stored));
        Assert.False(ApiKeyToken.Matches(token, stored.AsSpan(0, 31)));
        // Timing cannot be asserted in a unit test; the comparison must stay the platform's fixed-time one.
        var source = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Pilotage.Core", "Access", "ApiKeyToken.cs"));
        Assert.Contains("CryptographicOperations.FixedTimeEquals(Hash(token), storedHash)", source, StringComparison.Ordinal);
        Assert.DoesNotContain("SequenceEqual", source, StringComparison.Ordinal);
    }
}
