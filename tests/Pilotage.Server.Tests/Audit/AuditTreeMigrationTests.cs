using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Core.Audit;
using Pilotage.Core.Audit.Checkpoints;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Audit;

/// <summary>
/// A store whose chain predates the tree: entries without leaves become the tree's first leaves at start, the
/// chain links are still checked, and the key made on first start is kept, owner-only, across restarts.
/// </summary>
public sealed class AuditTreeMigrationTests
{
    [Fact]
    public async Task Entries_without_leaves_join_the_tree_on_start_and_the_key_survives_the_restart()
    {
        using var folder = new TempDirectory();
        var database = folder.File("pilotage.db");
        string publicKey;
        await using (var server = await PilotageTestServer.StartAsync(database))
        {
            await server.CreateUserWithKeyAsync("dana@example.org", "owner");
            publicKey = (await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/public-key")).GetProperty("publicKey").GetString()!;
            // Chained entries written as a store before the tree would hold them: no leaves, no tree in the head.
            await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
            var head = await db.AuditHead.SingleAsync(h => h.Id == 1);
            var previous = head.Hash;
            for (var sequence = head.Sequence + 1; sequence <= head.Sequence + 5; sequence++)
            {
                var record = new AuditRecord(sequence, AuditHasher.Normalise(DateTimeOffset.UtcNow), "old-admin", "user.created", $"user:old{sequence}", null, "role: member", previous);
                previous = AuditHasher.Compute(record);
                db.AuditEntries.Add(new AuditEntryRow { Sequence = sequence, At = record.At, Actor = record.Actor, Action = record.Action, Subject = record.Subject, After = record.After, PreviousHash = record.PreviousHash, Hash = previous });
            }
            var treeBefore = head.TreeSize;
            head.Sequence += 5;
            head.Hash = previous;
            await db.SaveChangesAsync();
            Assert.Equal(treeBefore + 5, head.Sequence);
        }

        var keyFile = folder.File("pilotage.db.audit-key");
        Assert.True(File.Exists(keyFile));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));

        await using (var server = await PilotageTestServer.StartAsync(database))
        {
            await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
            var head = await db.AuditHead.AsNoTracking().SingleAsync(h => h.Id == 1);
            Assert.Equal(head.Sequence, head.TreeSize);
            var verify = await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify");
            Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
            Assert.Equal(head.Sequence, verify.GetProperty("treeSize").GetInt64());
            Assert.Equal(publicKey, (await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/public-key")).GetProperty("publicKey").GetString());
            // The last old entry is provable offline with the key from before the restart.
            var proof = await server.Admin.GetFromJsonAsync<AuditInclusionProof>($"/api/v1/audit/proofs/{head.Sequence}");
            Assert.Equal("old-admin", proof!.Entry.Actor);
            Assert.True(AuditProofVerifier.Verify(proof, NoteVerifier.Parse(publicKey)).Ok);

            // The old chain links are still checked: breaking one is named as before.
            await db.Database.ExecuteSqlRawAsync("UPDATE audit_entries SET previous_hash = hash WHERE sequence = 2");
            var broken = await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify");
            Assert.False(broken.GetProperty("ok").GetBoolean());
            Assert.Equal(2, broken.GetProperty("firstBad").GetProperty("sequence").GetInt64());
        }
    }

    [Fact]
    public async Task A_key_file_that_is_not_a_key_stops_the_start_with_a_message()
    {
        using var folder = new TempDirectory();
        await File.WriteAllTextAsync(folder.File("bad.key"), "not a key\n");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => PilotageTestServer.StartAsync(folder.File("pilotage.db"),
            configure: o => o with { AuditLog = new Server.Audit.AuditLogOptions { KeyPath = folder.File("bad.key") } }));
        Assert.Contains("is not an audit key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checkpoints_are_signed_in_the_background_after_enough_entries_and_appended_to_the_witness()
    {
        using var folder = new TempDirectory();
        await using var server = await PilotageTestServer.StartAsync(folder.File("pilotage.db"),
            configure: o => o with { AuditLog = new Server.Audit.AuditLogOptions { WitnessPath = folder.File("elsewhere/witness"), CheckpointEveryEntries = 2, CheckpointEvery = TimeSpan.FromHours(1) } });
        await server.CreateUserWithKeyAsync("dana@example.org", "owner");
        await server.CreateUserWithKeyAsync("sam@example.org", "owner");
        var witness = folder.File("elsewhere/witness");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!File.Exists(witness) && DateTime.UtcNow < deadline) await Task.Delay(100);
        var notes = Server.Audit.AuditWitness.Read(witness).ToList();
        Assert.NotEmpty(notes);
        var key = NoteVerifier.Parse((await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/public-key")).GetProperty("publicKey").GetString()!);
        Assert.All(notes, n => Assert.Equal(NoteOutcome.Verified, OpenedCheckpoint.Open(n, key).Outcome));
        Assert.True(OpenedCheckpoint.Open(notes[^1], key).Checkpoint!.TreeSize >= 2);
    }
}
