using System.CommandLine;
using System.Globalization;
using Pilotage.Cli.Client;
using Pilotage.Server.Systems;

namespace Pilotage.Cli.Systems;

/// <summary>
/// <c>pilotage versions|rollback</c>: a system's configuration history, and putting an earlier
/// configuration back in force (a reason is required; the gateway serves it from the next request).
/// </summary>
internal static class RollbackCommand
{
    public static Command Versions(CliContext cli)
    {
        var system = SystemArgument();
        var command = cli.ClientCommand("versions", "List a system's configuration versions (its config and upstream), oldest first, with the one in force marked.");
        command.Arguments.Add(system);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            using var call = cli.Call(parse, ct);
            return call.Table(await call.GetAsync($"api/v1/systems/{Args.Escape(slug)}/versions"), SystemsApiJsonContext.Default.IReadOnlyListConfigVersionView,
                ["VERSION", "CURRENT", "CREATED", "BY", "HASH"],
                v => [v.Version.ToString(CultureInfo.InvariantCulture), v.Current ? "*" : "", Output.Time(v.CreatedAt), v.CreatedBy, v.Hash[..Math.Min(12, v.Hash.Length)]],
                $"no configuration versions recorded for {slug}");
        });
        return command;
    }

    public static Command Rollback(CliContext cli)
    {
        var system = SystemArgument();
        var to = new Option<int?>("--to")
        {
            Description = "The version whose configuration to restore (default: the latest earlier version with a different configuration); 'pilotage versions SYSTEM' lists them",
            HelpName = "VERSION",
        };
        var reason = new Option<string?>("--reason")
        {
            Description = "Why (required): kept in the audit trail",
            HelpName = "TEXT",
        };
        var command = cli.ClientCommand("rollback", "Put an earlier configuration (config and upstream) of a system back in force, as a new version. The gateway serves it from the next request. A reason is required.");
        command.Arguments.Add(system);
        command.Options.Add(to);
        command.Options.Add(reason);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            var why = parse.GetValue(reason);
            if (string.IsNullOrWhiteSpace(why))
            {
                throw new CliException($"rolling back '{slug}' needs a reason: pilotage rollback {slug} --reason \"…\" (it is kept in the audit trail)", ExitCodes.Usage);
            }
            var version = parse.GetValue(to);
            if (version is < 1) throw new CliException($"--to {version} is not a version number; 'pilotage versions {slug}' lists them", ExitCodes.Usage);
            using var call = cli.Call(parse, ct);
            var answer = await call.SendAsync(HttpMethod.Post, $"api/v1/systems/{Args.Escape(slug)}/rollback",
                new RollbackRequest(version, why.Trim()), SystemsApiJsonContext.Default.RollbackRequest);
            return call.ShowLine(answer, SystemsApiJsonContext.Default.RollbackView, view => string.Create(CultureInfo.InvariantCulture,
                $"{view.System}: configuration of version {view.RestoredFrom} restored, now in force as version {view.ConfigVersion} (by {view.RolledBackBy})"));
        });
        return command;
    }

    private static Argument<string> SystemArgument() => new("SYSTEM")
    {
        Description = "A system's name (metadata.name in its spec)",
    };
}
