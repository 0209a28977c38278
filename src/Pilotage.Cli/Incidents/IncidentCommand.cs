using System.CommandLine;
using System.Globalization;
using Pilotage.Cli.Client;
using Pilotage.Core.Incidents;
using Pilotage.Core.Specs;
using Pilotage.Server.Incidents;

namespace Pilotage.Cli.Incidents;

/// <summary>
/// <c>pilotage incident file|list|show|update</c>: incidents, complaints and support requests
/// (docs/incidents.md). Anyone signed in files one; the system's owner, an admin or the assigned
/// person works it through open → investigating → resolved → reviewed.
/// </summary>
internal static class IncidentCommand
{
    internal static readonly string[] Kinds = [.. SpecEnum.Names<IncidentKind>()];
    internal static readonly string[] Severities = [.. SpecEnum.Names<IncidentSeverity>()];
    internal static readonly string[] Statuses = [.. SpecEnum.Names<IncidentStatus>()];

    public static Command Create(CliContext cli)
    {
        var command = new Command("incident", "File and work incidents, complaints and support requests about an AI system.");
        command.Subcommands.Add(FileCommand(cli));
        command.Subcommands.Add(ListCommand(cli));
        command.Subcommands.Add(ShowCommand(cli));
        command.Subcommands.Add(UpdateCommand(cli));
        return command;
    }

    private static Command FileCommand(CliContext cli)
    {
        var system = Args.System("The system it concerns");
        var severity = new Option<string?>("--severity") { Description = "low, medium, high or critical (high and critical are escalated to the owner)", HelpName = "SEVERITY", Required = true };
        Systems.LifecycleCommands.OneOf(severity, Severities, "severity");
        var title = new Option<string?>("--title") { Description = "One line that says what happened", HelpName = "TEXT", Required = true };
        var kind = new Option<string?>("--kind") { Description = "incident (default), complaint or support_request", HelpName = "KIND" };
        Systems.LifecycleCommands.OneOf(kind, Kinds, "kind");
        var description = new Option<string?>("--description") { Description = "The details: what was asked, what the system did, who was affected", HelpName = "TEXT" };
        var interactions = new Option<string[]>("--interaction")
        {
            Description = "The id of an answer that shows the problem (x-pilotage-interaction-id); repeat for more",
            HelpName = "ID",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var command = cli.ClientCommand("file", "File an incident, complaint or support request against a system.");
        command.Arguments.Add(system);
        command.Options.Add(severity);
        command.Options.Add(title);
        command.Options.Add(kind);
        command.Options.Add(description);
        command.Options.Add(interactions);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            var what = Args.Blank(parse.GetValue(title)) ?? throw new CliException("an incident needs a title: --title \"what happened\"", ExitCodes.Usage);
            var request = new FileIncidentRequest(slug, parse.GetValue(kind) ?? "incident", parse.GetValue(severity), what,
                Args.Blank(parse.GetValue(description)), parse.GetValue(interactions) ?? []);
            using var call = cli.Call(parse, ct);
            var answer = await call.SendAsync(HttpMethod.Post, "api/v1/incidents", request, IncidentsApiJsonContext.Default.FileIncidentRequest);
            return call.ShowLine(answer, IncidentsApiJsonContext.Default.IncidentView, incident =>
                $"filed {incident.Kind.Replace('_', ' ')} {Id(incident.Id)} ({incident.Severity}) against {incident.System}: {Args.OneLine(incident.Title)}"
                + (incident.Severity is "high" or "critical" ? "; the owner is notified" : ""));
        });
        return command;
    }

    private static Command ListCommand(CliContext cli)
    {
        var system = new Option<string?>("--system") { Description = "Only this system's incidents", HelpName = "SYSTEM" };
        var status = new Option<string?>("--status") { Description = "Only incidents in this status: open, investigating, resolved or reviewed", HelpName = "STATUS" };
        Systems.LifecycleCommands.OneOf(status, Statuses, "status");
        var kind = new Option<string?>("--kind") { Description = "Only incidents, complaints or support requests", HelpName = "KIND" };
        Systems.LifecycleCommands.OneOf(kind, Kinds, "kind");
        var command = cli.ClientCommand("list", "List incidents, newest first (members see the ones they filed or are assigned).");
        command.Options.Add(system);
        command.Options.Add(status);
        command.Options.Add(kind);
        command.SetAction(async (parse, ct) =>
        {
            var query = new List<string>();
            if (Args.Blank(parse.GetValue(system)) is { } s) query.Add("system=" + Args.Escape(s));
            if (parse.GetValue(status) is { } st) query.Add("status=" + Args.Escape(st));
            if (parse.GetValue(kind) is { } k) query.Add("kind=" + Args.Escape(k));
            using var call = cli.Call(parse, ct);
            return call.Table(await call.GetAsync("api/v1/incidents" + (query.Count > 0 ? "?" + string.Join('&', query) : "")), IncidentsApiJsonContext.Default.IReadOnlyListIncidentView,
                ["ID", "SYSTEM", "KIND", "SEVERITY", "STATUS", "ASSIGNED", "REPORTED", "TITLE"],
                i => [Id(i.Id), i.System, i.Kind, i.Severity, i.Status, i.AssignedTo ?? "-", Output.Time(i.ReportedAt), Args.Short(i.Title, 60)],
                query.Count == 0 ? "no incidents; file one with 'pilotage incident file SYSTEM --severity S --title T'" : "no incidents match");
        });
        return command;
    }

    private static Command ShowCommand(CliContext cli)
    {
        var id = IdArgument();
        var command = cli.ClientCommand("show", "Show one incident with its description, linked answers and review note.");
        command.Arguments.Add(id);
        command.SetAction(async (parse, ct) =>
        {
            using var call = cli.Call(parse, ct);
            return call.Show(await call.GetAsync($"api/v1/incidents/{Id(parse.GetValue(id))}"), IncidentsApiJsonContext.Default.IncidentView, i => call.Output.Fields(
            [
                ("incident", Id(i.Id)),
                ("system", i.System),
                ("kind", i.Kind),
                ("severity", i.Severity),
                ("status", i.Status),
                ("title", Args.OneLine(i.Title)),
                ("description", i.Description is null ? "-" : Args.OneLine(i.Description)),
                ("reported by", i.ReportedBy),
                ("reported", Output.Time(i.ReportedAt)),
                ("assigned to", i.AssignedTo ?? "-"),
                ("updated", Output.Time(i.UpdatedAt)),
                ("resolved", Output.Time(i.ResolvedAt)),
                ("review note", i.ReviewNote is null ? "-" : Args.OneLine(i.ReviewNote)),
                ("interactions", i.Interactions.Count == 0 ? "-" : string.Join(", ", i.Interactions)),
            ]));
        });
        return command;
    }

    private static Command UpdateCommand(CliContext cli)
    {
        var id = IdArgument();
        var status = new Option<string?>("--status") { Description = "Move it: investigating, resolved or reviewed (closed; high and critical need --note)", HelpName = "STATUS" };
        Systems.LifecycleCommands.OneOf(status, Statuses, "status");
        var assign = new Option<string?>("--assign") { Description = "Who works on it (an e-mail); \"\" unassigns", HelpName = "EMAIL" };
        var note = new Option<string?>("--note") { Description = "The post-incident review: what happened, why, and what changes", HelpName = "TEXT" };
        var severity = new Option<string?>("--severity") { Description = "Change the severity: low, medium, high or critical", HelpName = "SEVERITY" };
        Systems.LifecycleCommands.OneOf(severity, Severities, "severity");
        var command = cli.ClientCommand("update", "Work an incident: move its status, assign it, add the review note or change its severity.");
        command.Arguments.Add(id);
        command.Options.Add(status);
        command.Options.Add(assign);
        command.Options.Add(note);
        command.Options.Add(severity);
        command.SetAction(async (parse, ct) =>
        {
            var number = parse.GetValue(id);
            var request = new UpdateIncidentRequest(parse.GetValue(status), parse.GetValue(assign), parse.GetValue(note), parse.GetValue(severity));
            if (request is { Status: null, AssignedTo: null, ReviewNote: null, Severity: null })
            {
                throw new CliException($"nothing to change: give --status, --assign, --note or --severity (see 'pilotage incident update --help')", ExitCodes.Usage);
            }
            using var call = cli.Call(parse, ct);
            var answer = await call.SendAsync(HttpMethod.Patch, $"api/v1/incidents/{Id(number)}", request, IncidentsApiJsonContext.Default.UpdateIncidentRequest);
            return call.ShowLine(answer, IncidentsApiJsonContext.Default.IncidentView,
                i => $"incident {Id(i.Id)} ({i.System}): {i.Status}, {i.Severity}, {(i.AssignedTo is null ? "unassigned" : "assigned to " + i.AssignedTo)}");
        });
        return command;
    }

    private static Argument<long> IdArgument() => new("ID") { Description = "The incident's number, as 'pilotage incident list' shows it" };

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
