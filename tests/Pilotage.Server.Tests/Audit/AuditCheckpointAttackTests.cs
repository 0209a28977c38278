using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Core.Audit;
using Pilotage.Core.Audit.Checkpoints;
using Pilotage.Core.Audit.Merkle;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Audit;

/// <summary>
/// Someone who can write the database attacks the audit log after a signed checkpoint left the server: an
/// altered entry, a deleted tail with the head moved, a rewrite of the whole chain with every hash, the tree and
/// the head recomputed, a forged checkpoint. Each is caught against the earlier checkpoint, on SQLite and PostgreSQL.
/// </summary>
public sealed class AuditCheckpointAttackTests
{
    public static TheoryData<string> Attacks() => new() { "untouched", "altered entry", "deleted tail, head moved", "consistent rewrite", "forged checkpoint" };

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Sqlite_attack_is_caught_against_an_earlier_checkpoint(string attack)
    {
        await using var server = await PilotageTestServer.StartAsync();
        await RunAsync(server, attack);
    }

    [PostgresTheory]
    [MemberData(nameof(Attacks))]
    public async Task Postgres_attack_is_caught_against_an_earlier_checkpoint(string attack)
    {
        await using var database = await PostgresDatabase.CreateAsync();
        using var folder = new TempDirectory();
        await using var server = await PilotageTestServer.StartAsync(database.ConnectionString,
            configure: o => o with { AuditLog = new Server.Audit.AuditLogOptions { KeyPath = folder.File("audit.key") } });
        await RunAsync(server, attack);
    }

    private static async Task RunAsync(PilotageTestServer server, string attack)
    {
        await server.CreateUserWithKeyAsync("dana@example.org", "owner", "support-pilot");
        await server.CreateUserWithKeyAsync("sam@example.org", "reviewer", "support-leads");
        var first = await CheckpointAsync(server);
        await server.ApplyAsync(AuditTamperTests.AccessMatrixSpec("audited", "dana@example.org"));
        var second = await CheckpointAsync(server);
        await server.CreateUserWithKeyAsync("lee@example.org", "member", "support-pilot");
        Assert.True(second.Size > first.Size && first.Size >= 4, $"{first.Size} then {second.Size}");
        var key = NoteVerifier.Parse((await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/public-key")).GetProperty("publicKey").GetString()!);

        switch (attack)
        {
            case "untouched":
                // The log grew after both checkpoints: it verifies against each, and proofs check offline.
                foreach (var checkpoint in new[] { first, second })
                {
                    var ok = await VerifyAsync(server, checkpoint.Note);
                    Assert.True(ok.GetProperty("ok").GetBoolean(), ok.ToString());
                    Assert.Equal("Consistent", Given(ok).GetProperty("verdict").GetString());
                }
                var proof = await server.Admin.GetFromJsonAsync<AuditInclusionProof>("/api/v1/audit/proofs/2");
                Assert.True(AuditProofVerifier.Verify(proof!, key).Ok);
                Assert.True(AuditProofVerifier.Verify(proof! with { Entry = proof!.Entry with { Actor = "mallory@example.org" } }, key).Ok is false);
                return;
            case "altered entry":
                await SqlAsync(server, "UPDATE audit_entries SET actor = 'mallory@example.org' WHERE sequence = 3");
                var altered = await VerifyAsync(server, first.Note);
                Assert.False(altered.GetProperty("ok").GetBoolean());
                Assert.Equal(3, altered.GetProperty("firstBad").GetProperty("sequence").GetInt64());
                Assert.Equal("Rewritten", Given(altered).GetProperty("verdict").GetString());
                return;
            case "deleted tail, head moved":
                var keep = first.Size - 2;
                await RewriteAsync(server, rows => rows.Where(r => r.Sequence <= keep).ToList());
                var truncated = await VerifyAsync(server, first.Note);
                // The chain and the recomputed tree hold together; only the checkpoint held outside shows the loss.
                Assert.Equal(JsonValueKind.Null, truncated.GetProperty("firstBad").ValueKind);
                Assert.False(truncated.GetProperty("ok").GetBoolean());
                var verdict = Given(truncated);
                Assert.Equal("Truncated", verdict.GetProperty("verdict").GetString());
                Assert.Contains($"entries {keep + 1}..{first.Size} were deleted", verdict.GetProperty("detail").GetString(), StringComparison.Ordinal);
                return;
            case "consistent rewrite":
                await RewriteAsync(server, rows =>
                {
                    rows[1].Actor = "mallory@example.org";
                    return rows;
                });
                var rewritten = await VerifyAsync(server, first.Note);
                Assert.Equal(JsonValueKind.Null, rewritten.GetProperty("firstBad").ValueKind);
                Assert.False(rewritten.GetProperty("ok").GetBoolean());
                Assert.Equal("Rewritten", Given(rewritten).GetProperty("verdict").GetString());
                // Without a checkpoint given, the witness file beside the store catches it too.
                var plain = await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify");
                Assert.False(plain.GetProperty("ok").GetBoolean(), plain.ToString());
                Assert.Contains(plain.GetProperty("checkpoints").EnumerateArray(),
                    c => c.GetProperty("source").GetString() == "witness file" && c.GetProperty("verdict").GetString() == "Rewritten");
                return;
            case "forged checkpoint":
                // A checkpoint claiming a smaller log under the real signature, and one signed by a look-alike key.
                var lines = first.Note.Split('\n');
                lines[1] = (first.Size - 2).ToString(System.Globalization.CultureInfo.InvariantCulture);
                var bent = string.Join('\n', lines);
                using (var mallory = NoteSigner.Generate(key.Name))
                {
                    foreach (var forged in new[] { bent, mallory.Sign(new AuditCheckpoint(key.Name, 2, MerkleHash.EmptyRoot()).Body()) })
                    {
                        var refused = await VerifyAsync(server, forged);
                        Assert.False(refused.GetProperty("ok").GetBoolean());
                        Assert.Equal("BadSignature", Given(refused).GetProperty("verdict").GetString());
                        Assert.StartsWith("bad signature", Given(refused).GetProperty("detail").GetString(), StringComparison.Ordinal);
                    }
                }
                return;
        }
        throw new ArgumentException(attack);
    }

    private sealed record Signed(string Note, long Size);

    private static async Task<Signed> CheckpointAsync(PilotageTestServer server)
    {
        var response = await server.Admin.PostAsync("/api/v1/audit/checkpoints", null);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return new Signed(body.GetProperty("checkpoint").GetString()!, body.GetProperty("treeSize").GetInt64());
    }

    internal static async Task<JsonElement> VerifyAsync(PilotageTestServer server, string note)
    {
        var response = await server.Admin.PostAsJsonAsync("/api/v1/audit/verify", new { checkpoint = note });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body;
    }

    private static JsonElement Given(JsonElement verification) =>
        verification.GetProperty("checkpoints").EnumerateArray().Single(c => c.GetProperty("source").GetString() == "given");

    private static async Task SqlAsync(PilotageTestServer server, string sql)
    {
        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
#pragma warning disable EF1002 // test-only statements written above, no input
        await db.Database.ExecuteSqlRawAsync(sql);
#pragma warning restore EF1002
    }

    /// <summary>
    /// The strongest database attacker: replaces the log by <paramref name="change"/> of it, then recomputes every
    /// chain hash, the head, the whole Merkle tree, and deletes the checkpoints kept in the store.
    /// </summary>
    internal static async Task RewriteAsync(PilotageTestServer server, Func<List<AuditEntryRow>, List<AuditEntryRow>> change)
    {
        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var rows = change(await db.AuditEntries.AsNoTracking().OrderBy(a => a.Sequence).ToListAsync());
        await db.AuditEntries.ExecuteDeleteAsync();
        await db.AuditTreeNodes.ExecuteDeleteAsync();
        await db.AuditCheckpoints.ExecuteDeleteAsync();
        var previous = AuditHasher.Genesis;
        var frontier = new MerkleFrontier();
        foreach (var row in rows)
        {
            row.PreviousHash = previous;
            var record = Server.Audit.AuditTrail.ToRecord(row);
            row.Hash = previous = AuditHasher.Compute(record);
            db.AuditEntries.Add(row);
            foreach (var (node, hash) in frontier.Append(AuditHasher.LeafHash(record))) db.AuditTreeNodes.Add(new Server.Storage.AuditTreeNodeRow { Id = node.Key, Hash = hash });
        }
        var head = await db.AuditHead.SingleAsync(h => h.Id == 1);
        head.Sequence = rows.Count;
        head.Hash = previous;
        head.TreeSize = frontier.Size;
        head.TreeFrontier = frontier.ToBytes();
        await db.SaveChangesAsync();
    }
}
