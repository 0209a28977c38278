using System.Text.Json.Nodes;
using Pilotage.Core.Audit.Checkpoints;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

/// <summary>
/// <c>pilotage audit verify-proof</c> offline: an auditor holding only the public key, a checkpoint and a proof file,
/// with no server and no credentials, accepts a good proof and refuses a tampered one, the wrong key, and a
/// checkpoint signed by another log.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class AuditProofCliTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _home = new("pilotage-cli-home");

    private static readonly System.Text.Json.JsonSerializerOptions WebJson = new(System.Text.Json.JsonSerializerDefaults.Web);

    private Cli Cli => new(server, _home);

    /// <summary>No server address, no token, no credentials file: a command that tried to reach a server would fail.</summary>
    private Task<CliResult> OfflineAsync(params string[] args) =>
        Cli.RunWithAsync(new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = _home.File("offline") }, args);

    [Fact]
    public async Task Verify_proof_offline_accepts_a_good_proof_and_refuses_a_tampered_one_a_wrong_key_and_another_logs_checkpoint()
    {
        // What the auditor takes away from the server: the public key, a proof of entry 1, and a checkpoint.
        var publicKey = await Cli.RunAsync("audit", "public-key");
        Assert.True(publicKey.ExitCode == 0, publicKey.ToString());
        var keyFile = _home.File("log.pub");
        File.WriteAllText(keyFile, publicKey.Out);
        var proofFile = _home.File("entry-1.proof");
        var prove = await Cli.RunAsync("audit", "prove", "1", "--out", proofFile);
        Assert.True(prove.ExitCode == 0, prove.ToString());
        var proof = JsonNode.Parse(File.ReadAllText(proofFile))!.AsObject();
        var checkpointFile = _home.File("proof.checkpoint");
        File.WriteAllText(checkpointFile, proof["checkpoint"]!.GetValue<string>());

        var good = await OfflineAsync("audit", "verify-proof", "--proof", proofFile, "--public-key", keyFile, "--checkpoint", checkpointFile);
        Assert.True(good.ExitCode == 0, good.ToString());
        Assert.StartsWith("proof verified: entry 1 is in the log of ", good.Out, StringComparison.Ordinal);
        // The key given inline works as well as the file.
        var inline = await OfflineAsync("audit", "verify-proof", "--proof", proofFile, "--public-key", publicKey.Out.Trim());
        Assert.True(inline.ExitCode == 0, inline.ToString());

        // The entry altered in the proof file.
        var altered = proof.DeepClone().AsObject();
        altered["entry"]!["actor"] = "mallory@example.org";
        var alteredFile = Write("altered.proof", altered);
        var refusedEntry = await OfflineAsync("audit", "verify-proof", "--proof", alteredFile, "--public-key", keyFile);
        Assert.Equal(1, refusedEntry.ExitCode);
        Assert.StartsWith("proof NOT verified: entry 1's content does not match its hash", refusedEntry.Out, StringComparison.Ordinal);
        Assert.StartsWith("error: proof NOT verified", refusedEntry.ErrorLine(), StringComparison.Ordinal);

        // The entry altered and its hash recomputed to match: the path no longer leads to the signed root.
        var rehashed = proof.DeepClone().AsObject();
        rehashed["entry"]!["actor"] = "mallory@example.org";
        var entry = System.Text.Json.JsonSerializer.Deserialize<ProvenEntry>(rehashed["entry"]!.ToJsonString(), WebJson)!;
        rehashed["entry"]!["hash"] = Core.Audit.AuditHasher.Compute(entry.ToRecord());
        var refusedPath = await OfflineAsync("audit", "verify-proof", "--proof", Write("rehashed.proof", rehashed), "--public-key", keyFile);
        Assert.Equal(1, refusedPath.ExitCode);
        Assert.StartsWith("proof NOT verified: the proof does not lead from entry 1 to the checkpoint's root", refusedPath.Out, StringComparison.Ordinal);

        // A hash of the path changed.
        var bent = proof.DeepClone().AsObject();
        var first = bent["proof"]!.AsArray()[0]!.GetValue<string>();
        bent["proof"]!.AsArray()[0] = (first[0] == '0' ? "1" : "0") + first[1..];
        var refusedHash = await OfflineAsync("audit", "verify-proof", "--proof", Write("bent.proof", bent), "--public-key", keyFile);
        Assert.Equal(1, refusedHash.ExitCode);
        Assert.Contains("does not lead from entry 1 to the checkpoint's root", refusedHash.Out, StringComparison.Ordinal);

        // A key of the same name that is not the log's: the checkpoint's signature does not verify.
        var name = NoteVerifier.Parse(publicKey.Out.Trim()).Name;
        using var mallory = NoteSigner.Generate(name);
        var wrongKey = await OfflineAsync("audit", "verify-proof", "--proof", proofFile, "--public-key", mallory.Verifier.Encode());
        Assert.Equal(1, wrongKey.ExitCode);
        Assert.StartsWith("proof NOT verified: bad signature on the checkpoint", wrongKey.Out, StringComparison.Ordinal);
        // ...nor does a checkpoint that key signed over the same size and root, checked with the log's key.
        var forged = Write("forged.checkpoint", mallory.Sign(OpenedCheckpoint.Open(proof["checkpoint"]!.GetValue<string>(), NoteVerifier.Parse(publicKey.Out.Trim())).Checkpoint!.Body()));
        var refusedForged = await OfflineAsync("audit", "verify-proof", "--proof", proofFile, "--public-key", keyFile, "--checkpoint", forged);
        Assert.Equal(1, refusedForged.ExitCode);
        Assert.StartsWith("proof NOT verified: bad signature on the checkpoint", refusedForged.Out, StringComparison.Ordinal);

        // A checkpoint from another log (another real server, with its own key), given in place of this log's.
        await using var other = await PilotageTestServer.StartAsync();
        await other.CreateUserWithKeyAsync("dana@example.org", "owner", "support-pilot");
        var otherCheckpoint = _home.File("other.checkpoint");
        var otherEnvironment = new Dictionary<string, string?> { ["PILOTAGE_SERVER"] = other.Url, ["PILOTAGE_TOKEN"] = PilotageTestServer.AdminToken, ["XDG_CONFIG_HOME"] = _home.Path };
        var taken = await Cli.RunWithAsync(otherEnvironment, "audit", "checkpoint", "--out", otherCheckpoint);
        Assert.True(taken.ExitCode == 0, taken.ToString());
        var otherKeyFile = _home.File("other.pub");
        File.WriteAllText(otherKeyFile, (await Cli.RunWithAsync(otherEnvironment, "audit", "public-key")).Out);
        var foreign = await OfflineAsync("audit", "verify-proof", "--proof", proofFile, "--public-key", keyFile, "--checkpoint", otherCheckpoint);
        Assert.Equal(1, foreign.ExitCode);
        Assert.StartsWith("proof NOT verified: bad signature on the checkpoint", foreign.Out, StringComparison.Ordinal);
        // With the other log's key, its checkpoint is genuine, but this log's proof does not hold against it.
        var foreignKey = await OfflineAsync("audit", "verify-proof", "--proof", proofFile, "--public-key", otherKeyFile, "--checkpoint", otherCheckpoint);
        Assert.Equal(1, foreignKey.ExitCode);
        Assert.StartsWith("proof NOT verified: ", foreignKey.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("bad signature", foreignKey.Out, StringComparison.Ordinal);
    }

    private string Write(string name, JsonNode node) => Write(name, node.ToJsonString());

    private string Write(string name, string text)
    {
        var path = _home.File(name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose() => _home.Dispose();
}
