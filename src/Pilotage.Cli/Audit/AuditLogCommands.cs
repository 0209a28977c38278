using System.CommandLine;
using System.Text.Json;
using Pilotage.Cli.Client;
using Pilotage.Core.Audit.Checkpoints;
using Pilotage.Server.Audit;

namespace Pilotage.Cli.Audit;

/// <summary>
/// <c>pilotage audit checkpoint|prove|verify-proof|public-key</c>: signed checkpoints taken out of the server,
/// inclusion proofs, and the offline check that needs only the public key (docs/audit.md).
/// </summary>
internal static class AuditLogCommands
{
    public static IEnumerable<Command> Create(CliContext cli) => [Checkpoint(cli), Prove(cli), VerifyProof(cli), PublicKey(cli)];

    private static Command Checkpoint(CliContext cli)
    {
        var output = new Option<string?>("--out", "-o") { Description = "Write the signed checkpoint to this file (keep it away from the database) instead of stdout", HelpName = "FILE" };
        var command = cli.ClientCommand("checkpoint", "Have the server sign a checkpoint of the audit log as it stands now (its tree size covers every entry) and print it, or write it with --out. Keep it: 'pilotage audit verify --checkpoint FILE' later proves the log was neither truncated nor rewritten since.");
        command.Options.Add(output);
        command.SetAction(async (parse, ct) =>
        {
            using var call = cli.Call(parse, ct);
            var raw = await call.SendAsync(HttpMethod.Post, "api/v1/audit/checkpoints");
            var view = call.Read(raw, AuditJsonContext.Default.CheckpointView);
            if (parse.GetValue(output) is { } file)
            {
                AuditFiles.Write(file, view.Checkpoint);
                return call.Show(raw, _ => call.Output.Line($"wrote a signed checkpoint of {view.TreeSize} entries (root {view.RootHash}) to {file}"));
            }
            return call.Show(raw, _ => call.Output.Out.Write(view.Checkpoint));
        });
        return command;
    }

    private static Command Prove(CliContext cli)
    {
        var entry = new Argument<long>("ENTRY_ID") { Description = "The entry's sequence number, as 'pilotage audit export' shows it" };
        var output = new Option<string?>("--out", "-o") { Description = "Write the proof to this file instead of stdout", HelpName = "FILE" };
        var command = cli.ClientCommand("prove", "Print an inclusion proof of one audit entry against the latest signed checkpoint (JSON: the entry, the checkpoint, the proof). Anyone holding the public key checks it with 'pilotage audit verify-proof', without the server.");
        command.Arguments.Add(entry);
        command.Options.Add(output);
        command.SetAction(async (parse, ct) =>
        {
            var sequence = parse.GetValue(entry);
            if (sequence < 1) throw new CliException($"ENTRY_ID is an entry's sequence number, 1 or more; '{sequence}' is not one", ExitCodes.Usage);
            using var call = cli.Call(parse, ct);
            var raw = await call.GetAsync($"api/v1/audit/proofs/{sequence}");
            var text = Indented(raw);
            if (parse.GetValue(output) is { } file)
            {
                AuditFiles.Write(file, text);
                return call.Show(raw, _ => call.Output.Line($"wrote the proof of entry {sequence} to {file}"));
            }
            // The proof is JSON already: printed as it will be checked, with or without --json.
            call.Output.Out.Write(text);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Indented(JsonElement element)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true })) element.WriteTo(writer);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    private static Command VerifyProof(CliContext cli)
    {
        var proof = new Option<string>("--proof") { Description = "The proof file 'pilotage audit prove' wrote", HelpName = "FILE", Required = true };
        var publicKey = new Option<string>("--public-key") { Description = "The log's public key (as 'pilotage audit public-key' prints it), or a file holding it", HelpName = "KEY|FILE", Required = true };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Check against this signed checkpoint instead of the one in the proof (one you kept yourself)", HelpName = "FILE" };
        // Offline: no --server, no --token, no database.
        var command = new Command("verify-proof", "Check an inclusion proof offline, with nothing but the log's public key: the checkpoint's signature, the entry's hash, and the path from the entry to the signed root. Exits 1 when it does not hold.")
        {
            proof,
            publicKey,
            checkpoint,
        };
        command.SetAction((parse, _) =>
        {
            var key = AuditFiles.ReadPublicKey(parse.GetValue(publicKey)!);
            var text = AuditFiles.ReadText(parse.GetValue(proof)!, "proof");
            AuditInclusionProof? parsed;
            try
            {
                parsed = JsonSerializer.Deserialize(text, AuditJsonContext.Default.AuditInclusionProof);
            }
            catch (JsonException e)
            {
                throw new CliException($"{parse.GetValue(proof)} is not a proof from 'pilotage audit prove': {e.Message}");
            }
            if (parsed?.Entry is null || parsed.Proof is null || parsed.Checkpoint is null)
            {
                throw new CliException($"{parse.GetValue(proof)} is not a proof from 'pilotage audit prove': it lacks the entry, the proof or the checkpoint");
            }
            var note = parse.GetValue(checkpoint) is { } file ? AuditFiles.ReadText(file, "checkpoint") : null;
            var result = AuditProofVerifier.Verify(parsed, key, note);
            if (cli.WantsJson(parse)) cli.Output.Json(JsonSerializer.SerializeToElement(result, AuditJsonContext.Default.ProofCheck));
            if (result.Ok)
            {
                if (!cli.WantsJson(parse)) cli.Output.Line($"proof verified: {result.Detail}");
                return Task.FromResult(ExitCodes.Ok);
            }
            if (!cli.WantsJson(parse)) cli.Output.Line($"proof NOT verified: {result.Detail}");
            cli.Console.Error.WriteLine($"error: proof NOT verified: {result.Detail}");
            return Task.FromResult(ExitCodes.Failure);
        });
        return command;
    }

    private static Command PublicKey(CliContext cli)
    {
        var keyFile = new Option<string?>("--key") { Description = "Read the audit key file itself (the server's --audit-key) instead of asking the server", HelpName = "FILE" };
        var command = cli.ClientCommand("public-key", "Print the public key audit checkpoints are signed with, in the signed-note verifier key format (NAME+HASH+KEY). Give it to whoever checks checkpoints and proofs.");
        command.Options.Add(keyFile);
        command.SetAction(async (parse, ct) =>
        {
            string key;
            if (parse.GetValue(keyFile) is { } file)
            {
                try
                {
                    using var signer = NoteSigner.Parse(AuditFiles.ReadText(file, "audit key"));
                    key = signer.Verifier.Encode();
                }
                catch (FormatException e)
                {
                    throw new CliException($"{file} is not an audit key file: {e.Message}");
                }
            }
            else
            {
                using var call = cli.Call(parse, ct);
                var raw = await call.GetAsync("api/v1/audit/public-key");
                key = raw.GetProperty("publicKey").GetString() ?? throw new CliException($"the server at {call.Client.ServerText} sent no public key");
            }
            if (cli.WantsJson(parse))
            {
                cli.Output.Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("publicKey", key);
                    w.WriteEndObject();
                });
            }
            else
            {
                cli.Output.Line(key);
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}

/// <summary>Files the audit verbs read and write, with errors that name the file.</summary>
internal static class AuditFiles
{
    public static string ReadText(string path, string what)
    {
        try
        {
            return File.ReadAllText(path).ReplaceLineEndings("\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read the {what} file {path}: {e.Message}");
        }
    }

    /// <summary>A public key given inline (NAME+HASH+KEY) or as a file holding one.</summary>
    public static NoteVerifier ReadPublicKey(string keyOrFile)
    {
        var text = keyOrFile.Contains('+', StringComparison.Ordinal) && !File.Exists(keyOrFile) ? keyOrFile : ReadText(keyOrFile, "public key");
        try
        {
            return NoteVerifier.Parse(text.Trim());
        }
        catch (FormatException e)
        {
            throw new CliException($"bad public key: {e.Message}", ExitCodes.Usage);
        }
    }

    public static void Write(string path, string text)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder)) throw new CliException($"cannot write {path}: the folder {folder} does not exist");
        try
        {
            File.WriteAllText(path, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {path}: {e.Message}");
        }
    }
}
