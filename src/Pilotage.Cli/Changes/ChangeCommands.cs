using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Pilotage.Cli.Client;
using Pilotage.Server.Changes;

namespace Pilotage.Cli.Changes;

/// <summary>
/// <c>pilotage changes [SYSTEM]</c> and <c>pilotage change show|approve|reject|withdraw|apply ID</c>:
/// config and upstream changes of systems past their pilot (docs/change-control.md).
/// </summary>
internal static class ChangeCommands
{
    private static readonly string[] Statuses = ["open", "approved", "rejected", "applied", "withdrawn"];

    public static Command List(CliContext cli)
    {
        var system = new Argument<string?>("SYSTEM") { Description = "Only this system's change requests", Arity = ArgumentArity.ZeroOrOne };
        var status = new Option<string?>("--status") { Description = "Only requests in this state: open, approved, rejected, applied or withdrawn", HelpName = "STATUS" };
        Systems.LifecycleCommands.OneOf(status, Statuses, "status");
        var command = cli.ClientCommand("changes", "List change requests (config or upstream changes of systems past their pilot), newest first.");
        command.Arguments.Add(system);
        command.Options.Add(status);
        command.SetAction(async (parse, ct) =>
        {
            var only = Args.Blank(parse.GetValue(system));
            var which = parse.GetValue(status);
            var query = new List<string>();
            if (only is not null) query.Add("system=" + Args.Escape(only));
            if (which is not null) query.Add("status=" + Args.Escape(which));
            using var client = cli.Connect(parse);
            var raw = await client.GetAsync("api/v1/changes" + (query.Count > 0 ? "?" + string.Join('&', query) : ""), ct);
            if (cli.WantsJson(parse))
            {
                cli.Output.Json(raw);
                return ExitCodes.Ok;
            }
            var changes = raw.Deserialize(ChangesJsonContext.Default.IReadOnlyListChangeRequestView) ?? [];
            cli.Output.Table(
                ["ID", "SYSTEM", "STATUS", "RISK", "REQUESTED BY", "REQUESTED", "CHANGES", "GATE"],
                changes.Select(c => (IReadOnlyList<string>)
                [
                    Args.Number(c.Id), c.System, c.Status, c.Risk, c.RequestedBy, Output.Time(c.RequestedAt),
                    Args.Short(string.Join(", ", c.Diff.Select(d => d.Path)), 60), Gate(c.Gate),
                ]).ToList(),
                only is null ? "no change requests" : $"no change requests for {only}");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Change(CliContext cli)
    {
        var command = cli.ClientCommand("change", "Show, approve, reject, withdraw or apply one change request. A high-risk system needs an approver other than the requester; applying runs the regression gate when the spec has one.");
        command.Subcommands.Add(Show(cli));
        command.Subcommands.Add(Decide(cli, "approve", "Approve a change request (the system's owner or an admin; for high risk, not the requester).", reasonRequired: false));
        command.Subcommands.Add(Decide(cli, "reject", "Reject a change request; a reason is required.", reasonRequired: true));
        command.Subcommands.Add(Decide(cli, "withdraw", "Withdraw an open or approved change request.", reasonRequired: false));
        command.Subcommands.Add(Decide(cli, "apply", "Put an approved change request in force as a new config version (the gateway serves it from the next request), if the regression gate passes.", reasonRequired: false));
        return command;
    }

    private static Command Show(CliContext cli)
    {
        var id = IdArgument();
        var command = cli.ClientCommand("show", "Show a change request: who asked, its status, the diff and the last regression gate check.");
        command.Arguments.Add(id);
        command.SetAction(async (parse, ct) =>
        {
            using var client = cli.Connect(parse);
            var raw = await client.GetAsync($"api/v1/changes/{Args.Number(parse.GetValue(id))}", ct);
            if (cli.WantsJson(parse))
            {
                cli.Output.Json(raw);
                return ExitCodes.Ok;
            }
            Print(cli, raw.Deserialize(ChangesJsonContext.Default.ChangeRequestView) ?? throw new CliException("the server sent an empty change request"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Decide(CliContext cli, string verb, string description, bool reasonRequired)
    {
        var id = IdArgument();
        var reason = new Option<string?>("--reason") { Description = reasonRequired ? "Why (required): kept in the audit trail" : "Why: kept with the request and in the audit trail", HelpName = "TEXT" };
        var command = cli.ClientCommand(verb, description);
        command.Arguments.Add(id);
        command.Options.Add(reason);
        command.SetAction(async (parse, ct) =>
        {
            var number = parse.GetValue(id);
            var why = Args.Blank(parse.GetValue(reason));
            if (reasonRequired && why is null)
            {
                throw new CliException($"pilotage change {verb} {number} needs --reason \"…\" (it is kept in the audit trail)", ExitCodes.Usage);
            }
            using var client = cli.Connect(parse);
            var raw = await client.SendJsonAsync(HttpMethod.Post, $"api/v1/changes/{Args.Number(number)}/{verb}",
                new ChangeDecisionRequest(why), ChangesJsonContext.Default.ChangeDecisionRequest, ct);
            if (cli.WantsJson(parse))
            {
                cli.Output.Json(raw);
                return ExitCodes.Ok;
            }
            var view = raw.Deserialize(ChangesJsonContext.Default.ChangeRequestView) ?? throw new CliException("the server sent an empty change request");
            cli.Output.Line(view.Status == "applied"
                ? string.Create(CultureInfo.InvariantCulture, $"change request {view.Id} applied: {view.System} now serves config v{view.AppliedVersion}")
                : $"change request {view.Id} of {view.System} is {view.Status}");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>What `apply` prints for a change request it opened: its id and the diff that waits for approval.</summary>
    internal static void PrintRequested(CliContext cli, string slug, long id, IEnumerable<SpecChangeView> changes)
    {
        cli.Output.Line($"{slug}: change request {Args.Number(id)} opened; the configuration in force is unchanged until it is approved and applied (pilotage change approve|apply {Args.Number(id)})");
        foreach (var change in changes) cli.Output.Line($"  {change.Path}: {change.Before ?? "(none)"} -> {change.After ?? "(removed)"}");
    }

    private static void Print(CliContext cli, ChangeRequestView c)
    {
        cli.Output.Fields(
        [
            ("Change request", Args.Number(c.Id)),
            ("System", $"{c.System} (risk {c.Risk})"),
            ("Status", c.Status),
            ("Requested", $"{c.RequestedBy} at {Output.Time(c.RequestedAt)}, against config v{c.BaseVersion}"),
            ("Decided", c.DecidedBy is null ? "-" : $"{c.DecidedBy} at {Output.Time(c.DecidedAt)}{(c.DecisionReason is null ? "" : ": " + Args.OneLine(c.DecisionReason))}"),
            ("Applied", c.AppliedBy is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{c.AppliedBy} at {Output.Time(c.AppliedAt)} as config v{c.AppliedVersion}")),
            ("Gate", Gate(c.Gate)),
        ]);
        cli.Output.Line("Diff:");
        foreach (var change in c.Diff) cli.Output.Line($"  {change.Path}: {change.Before ?? "(none)"} -> {change.After ?? "(removed)"}");
    }

    private static string Gate(RegressionGateResult? gate) => gate is null ? "-" : string.Create(CultureInfo.InvariantCulture,
        $"{(gate.Passed ? "passed" : "refused")}: pass_rate {gate.BaselinePassRate:0.###} -> {gate.CandidatePassRate:0.###} on {gate.TestSet} (max drop {gate.MaxPassRateDrop:0.###})");

    /// <summary><c>pilotage metrics SYSTEM --by-version</c>: the key figures of every config version side by side.</summary>
    internal static async Task<int> ByVersionAsync(CliContext cli, ParseResult parse, string slug, CancellationToken ct)
    {
        using var client = cli.Connect(parse);
        var raw = await client.GetAsync($"api/v1/systems/{Args.Escape(slug)}/metrics/versions", ct);
        if (cli.WantsJson(parse))
        {
            cli.Output.Json(raw);
            return ExitCodes.Ok;
        }
        var versions = raw.Deserialize(ChangesJsonContext.Default.IReadOnlyListVersionMetricsView) ?? [];
        var headers = new List<string> { "METRIC" };
        headers.AddRange(versions.Select(v => $"v{Args.Number(v.ConfigVersion)}{(v.Current ? " *" : "")}"));
        var rows = ChangeRequestQueries.KeyMetrics.Select(metric => (IReadOnlyList<string>)
            [metric, .. versions.Select(v => v.Metrics.TryGetValue(metric, out var m) && m.Value is { } value
                ? $"{Pilotage.Core.Metrics.MetricCatalogue.Format(metric, value)} ({Evidence.MetricsCommand.Samples(m.N)})" : "-")]).ToList();
        cli.Output.Table(headers, rows, $"no config versions recorded for {slug}");
        return ExitCodes.Ok;
    }

    private static Argument<long> IdArgument() => new("ID") { Description = "The change request's number, as 'pilotage changes' lists it" };
}
