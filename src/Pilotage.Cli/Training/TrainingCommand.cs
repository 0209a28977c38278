using System.CommandLine;
using System.Text.Json;
using Pilotage.Cli.Client;

namespace Pilotage.Cli.Training;

/// <summary>
/// <c>pilotage training show|ack SYSTEM</c>: what a system asks its users to acknowledge before the
/// gateway serves them, and the acknowledgement itself, for the key the CLI signs in with (a member's
/// own key: <c>--token</c> or <c>PILOTAGE_TOKEN</c>). Calls the gateway's training endpoints, the same
/// ones an app would call (<c>GET /v1/training/{system}</c>, <c>POST /v1/training/{system}/acknowledge</c>).
/// </summary>
internal static class TrainingCommand
{
    public static Command Create(CliContext cli)
    {
        var command = new Command("training", "Read a system's training text and acknowledge it, as the person whose key signs in (a member's own key: --token or PILOTAGE_TOKEN).");
        command.Subcommands.Add(Show(cli));
        command.Subcommands.Add(Acknowledge(cli));
        return command;
    }

    private static Command Show(CliContext cli)
    {
        var system = Args.System("The system whose training to read");
        var command = cli.ClientCommand("show", "Print a system's training text and whether you have acknowledged it.");
        command.Arguments.Add(system);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            using var call = cli.Call(parse, ct);
            return call.Show(await call.GetAsync($"v1/training/{Args.Escape(slug)}"), answer => Print(call.Output, answer, slug, acknowledging: false));
        });
        return command;
    }

    private static Command Acknowledge(CliContext cli)
    {
        var system = Args.System("The system whose training you acknowledge");
        var command = cli.ClientCommand("ack", "Acknowledge a system's training, so the gateway serves you (recorded in the audit trail). Read it first with 'pilotage training show SYSTEM'.");
        command.Arguments.Add(system);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            using var call = cli.Call(parse, ct);
            return call.Show(await call.SendAsync(HttpMethod.Post, $"v1/training/{Args.Escape(slug)}/acknowledge"), answer => Print(call.Output, answer, slug, acknowledging: true));
        });
        return command;
    }

    private static void Print(Output output, JsonElement raw, string slug, bool acknowledging)
    {
        if (raw.ValueKind != JsonValueKind.Object) throw new CliException($"the server sent an unexpected answer about the training of '{slug}'");
        var required = raw.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.True;
        var acknowledged = raw.TryGetProperty("acknowledged", out var a) && a.ValueKind == JsonValueKind.True;
        var text = raw.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (text is not null) output.Line(text);
        if (acknowledging)
        {
            output.Line(required
                ? $"acknowledged the training of {slug}: the gateway now serves you within your groups"
                : $"acknowledged the training of {slug} (it requires none; nothing changes for the gateway)");
        }
        else
        {
            output.Line(!required ? $"{slug} requires no training"
                : acknowledged ? $"you have acknowledged the training of {slug}"
                : $"not acknowledged yet: 'pilotage training ack {slug}' confirms you have read it");
        }
    }
}
