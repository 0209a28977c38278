using System.CommandLine;
using System.Data.Common;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Pilotage.Cli.Client;
using Pilotage.Core.Audit;
using Pilotage.Core.Audit.Checkpoints;
using Pilotage.Server.Audit;
using Pilotage.Server.Storage;

namespace Pilotage.Cli.Audit;

/// <summary><c>pilotage audit verify|export</c>: prove the audit trail is intact, and take a copy of it (checkpoints and proofs: <see cref="AuditLogCommands"/>).</summary>
internal static class AuditCommand
{
    public static Command Create(CliContext cli)
    {
        var audit = new Command("audit", "Check and export the audit trail: every change to people, keys and systems, chained by hashes so that tampering shows.");
        audit.Subcommands.Add(Verify(cli));
        audit.Subcommands.Add(Export(cli));
        foreach (var command in AuditLogCommands.Create(cli)) audit.Subcommands.Add(command);
        return audit;
    }

    private static Command Verify(CliContext cli)
    {
        var db = new Option<string?>("--db")
        {
            Description = "Verify a database directly instead of asking the server: a SQLite file (opened read-only) or a PostgreSQL 'Host=…' string. For auditors holding a copy.",
            HelpName = "DB",
        };
        var checkpoint = new Option<string?>("--checkpoint")
        {
            Description = "A signed checkpoint kept outside the database (from 'pilotage audit checkpoint'): its signature is checked first, then that the log still extends it. Catches a truncated or rewritten log.",
            HelpName = "FILE",
        };
        var publicKey = new Option<string?>("--public-key")
        {
            Description = "With --db: the log's public key (as 'pilotage audit public-key' prints it), or a file holding it, to check checkpoints' signatures",
            HelpName = "KEY|FILE",
        };
        var command = cli.ClientCommand("verify", "Walk the audit log from the first entry to the last: the hash chain, the Merkle tree, and every signed checkpoint the server keeps (or the one given). Reports the first entry altered, removed or inserted, a truncation or a rewrite. Exits 1 when anything does not hold.");
        command.Options.Add(db);
        command.Options.Add(checkpoint);
        command.Options.Add(publicKey);
        command.SetAction(async (parse, ct) =>
        {
            var note = parse.GetValue(checkpoint) is { } file ? AuditFiles.ReadText(file, "checkpoint") : null;
            AuditVerification result;
            JsonElement raw;
            if (parse.GetValue(db) is { } database)
            {
                var key = parse.GetValue(publicKey) is { } k ? AuditFiles.ReadPublicKey(k) : null;
                if (note is not null && key is null)
                {
                    throw new CliException("--checkpoint with --db needs the log's public key to check its signature: add --public-key KEY (from 'pilotage audit public-key')", ExitCodes.Usage);
                }
                result = await VerifyDatabaseAsync(database, key, note, ct);
                raw = JsonSerializer.SerializeToElement(result, AuditApiJsonContext.Default.AuditVerification);
            }
            else
            {
                if (parse.GetValue(publicKey) is not null) throw new CliException("--public-key is for --db; the server checks with its own key", ExitCodes.Usage);
                using var call = cli.Call(parse, ct);
                raw = note is null
                    ? await call.GetAsync("api/v1/audit/verify")
                    : await call.SendAsync(HttpMethod.Post, "api/v1/audit/verify", new VerifyAgainstRequest(note), AuditJsonContext.Default.VerifyAgainstRequest);
                result = call.Read(raw, AuditApiJsonContext.Default.AuditVerification);
            }
            if (cli.WantsJson(parse)) cli.Output.Json(raw);
            if (result.Ok)
            {
                if (!cli.WantsJson(parse)) cli.Output.Line(VerifiedLine(result));
                return ExitCodes.Ok;
            }
            var broken = AuditVerdicts.Summary(result);
            if (!cli.WantsJson(parse)) cli.Output.Line(broken);
            cli.Console.Error.WriteLine($"error: {broken}");
            return ExitCodes.Failure;
        });
        return command;
    }

    private static string VerifiedLine(AuditVerification result)
    {
        var checks = result.Checkpoints ?? [];
        var against = checks.Count == 0
            ? "no signed checkpoint compared"
            : $"consistent with the signed checkpoints ({string.Join(", ", checks.Select(c => $"{c.Source}: {c.TreeSize} entries"))})";
        return $"audit chain verified: {result.Entries} entries, head {result.HeadHash}; Merkle root {result.RootHash}; {against}";
    }

    /// <summary>Reads the store without a server and without changing it: no migration, SQLite read-only.</summary>
    private static async Task<AuditVerification> VerifyDatabaseAsync(string database, NoteVerifier? key, string? checkpoint, CancellationToken ct)
    {
        StoreLocation location;
        try
        {
            location = StoreLocation.Parse(database);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"bad --db value: {e.Message}", ExitCodes.Usage);
        }
        if (location.Provider == StoreProvider.Sqlite)
        {
            var sqlite = new SqliteConnectionStringBuilder(location.ConnectionString);
            // Opening a missing file would create an empty database; say what is wrong instead.
            if (!File.Exists(sqlite.DataSource)) throw new CliException($"no database file at {sqlite.DataSource}");
            sqlite.Mode = SqliteOpenMode.ReadOnly;
            // No pool: the file is released when the check ends, so a copy can be moved or deleted right after.
            sqlite.Pooling = false;
            location = location with { ConnectionString = sqlite.ConnectionString };
        }
        var store = new PilotageStore(location);
        try
        {
            return await new AuditLogVerifier(store, key, null).VerifyAsync(checkpoint, ct);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException)
        {
            throw new CliException($"cannot read the audit trail from {location.Describe()}: is it a Pilotage database? ({e.Message})");
        }
    }

    private static Command Export(CliContext cli)
    {
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Write to this file instead of stdout",
            HelpName = "FILE",
        };
        var command = cli.ClientCommand("export", "Export every audit entry, in order, as JSON Lines (one JSON object per line), to stdout or a file.");
        command.Options.Add(output);
        command.SetAction(async (parse, ct) =>
        {
            using var call = cli.Call(parse, ct);
            using var response = await call.OpenStreamAsync("api/v1/audit/export");
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var file = parse.GetValue(output);
            if (file is null)
            {
                // Line by line, so a large trail streams through instead of filling memory.
                using var reader = new StreamReader(body);
                while (await reader.ReadLineAsync(ct) is { } line) await cli.Console.Out.WriteLineAsync(line);
                await cli.Console.Out.FlushAsync(ct);
                return ExitCodes.Ok;
            }
            var folder = Path.GetDirectoryName(Path.GetFullPath(file));
            if (folder is not null && !Directory.Exists(folder))
            {
                throw new CliException($"cannot write {file}: the folder {folder} does not exist");
            }
            var temp = file + ".partial";
            long entries;
            try
            {
                await using (var target = File.Create(temp))
                {
                    await body.CopyToAsync(target, ct);
                }
                entries = CountLines(temp);
                File.Move(temp, file, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or HttpRequestException)
            {
                // A half-written export must not pass for a complete one.
                if (File.Exists(temp)) File.Delete(temp);
                throw new CliException($"cannot write {file}: {e.Message}");
            }
            if (cli.WantsJson(parse))
            {
                cli.Output.Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("file", Path.GetFullPath(file));
                    w.WriteNumber("entries", entries);
                    w.WriteEndObject();
                });
            }
            else
            {
                cli.Output.Line($"exported {entries} audit entries to {file}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static long CountLines(string path)
    {
        using var reader = File.OpenText(path);
        long n = 0;
        while (reader.ReadLine() is not null) n++;
        return n;
    }
}
