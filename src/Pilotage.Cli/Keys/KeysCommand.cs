using System.CommandLine;
using System.Globalization;
using Pilotage.Cli.Client;
using Pilotage.Server.Keys;

namespace Pilotage.Cli.Keys;

/// <summary><c>pilotage keys create|list|revoke</c>: the API keys people and apps sign in with.</summary>
internal static class KeysCommand
{
    public static Command Create(CliContext cli)
    {
        var keys = new Command("keys", "Manage API keys. A key belongs to one person; the CLI, the API and the gateway all accept it as 'Authorization: Bearer <key>'.");
        keys.Subcommands.Add(CreateKey(cli));
        keys.Subcommands.Add(List(cli));
        keys.Subcommands.Add(Revoke(cli));
        return keys;
    }

    private static Command CreateKey(CliContext cli)
    {
        var user = new Option<string?>("--user") { Description = "Whose key it is (admins only, for someone else) [default: you]", HelpName = "EMAIL" };
        var expires = new Option<string?>("--expires") { Description = "When the key stops working: a date (valid through that day, UTC) such as 2026-12-31, or a timestamp such as 2026-12-31T18:00:00Z [default: never]", HelpName = "DATE" };
        var name = new Option<string?>("--name") { Description = "A label to recognise the key by, e.g. the app using it", HelpName = "NAME" };
        var command = cli.ClientCommand("create", "Create an API key and print its secret. The secret is shown this once: Pilotage keeps only a hash of it.");
        command.Options.Add(user);
        command.Options.Add(expires);
        command.Options.Add(name);
        command.SetAction(async (parse, ct) =>
        {
            var expiresAt = ParseExpiry(parse.GetValue(expires));
            using var call = cli.Call(parse, ct);
            var answer = await call.SendAsync(HttpMethod.Post, "api/v1/keys",
                new CreateKeyRequest(parse.GetValue(user), parse.GetValue(name), expiresAt), KeysApiJsonContext.Default.CreateKeyRequest);
            return call.Show(answer, KeysApiJsonContext.Default.CreatedKey, key =>
            {
                var expiry = key.ExpiresAt is null ? "does not expire" : $"expires {Output.Time(key.ExpiresAt)}";
                call.Output.Line($"created key {key.Id} for {key.User}{(key.Name is null ? "" : $" ({key.Name})")}; it {expiry}");
                call.Output.Line();
                call.Output.Line($"    {key.Key}");
                call.Output.Line();
                call.Output.Line("This is the only time the secret is shown: Pilotage stores only a hash of it and cannot show it again.");
                call.Output.Line("Keep it somewhere safe, e.g. export PILOTAGE_TOKEN=<key> for the CLI. Lost it? Revoke it and create another.");
            });
        });
        return command;
    }

    private static Command List(CliContext cli)
    {
        var command = cli.ClientCommand("list", "List API keys (yours; admins and auditors see everyone's). Secrets are never shown.");
        command.SetAction(async (parse, ct) =>
        {
            using var call = cli.Call(parse, ct);
            return call.Table(await call.GetAsync("api/v1/keys"), KeysApiJsonContext.Default.IReadOnlyListKeyView,
                ["ID", "USER", "NAME", "STATE", "CREATED", "EXPIRES"],
                k => [k.Id, k.User, k.Name ?? "-", k.State, Output.Time(k.CreatedAt), Output.Time(k.ExpiresAt)],
                "no keys");
        });
        return command;
    }

    private static Command Revoke(CliContext cli)
    {
        var id = new Argument<string>("ID") { Description = "The key's id, as shown by 'pilotage keys list' (not its secret)" };
        var command = cli.ClientCommand("revoke", "Revoke an API key: it stops working at once, for good.");
        command.Arguments.Add(id);
        command.SetAction(async (parse, ct) =>
        {
            using var call = cli.Call(parse, ct);
            var answer = await call.SendAsync(HttpMethod.Delete, $"api/v1/keys/{Args.Escape(parse.GetValue(id)!)}");
            return call.ShowLine(answer, KeysApiJsonContext.Default.KeyView, key => $"revoked key {key.Id} of {key.User} (at {Output.Time(key.RevokedAt)})");
        });
        return command;
    }

    /// <summary>A bare date means "through that day" (UTC); a timestamp is taken as given, UTC when it has no offset.</summary>
    internal static DateTimeOffset? ParseExpiry(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var value = text.Trim();
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        }
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }
        throw new CliException($"--expires '{text}' is not a date; use e.g. 2026-12-31 or 2026-12-31T18:00:00Z", ExitCodes.Usage);
    }
}
