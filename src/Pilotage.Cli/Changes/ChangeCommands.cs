using System.CommandLine;
using System.Globalization;
using Pilotage.Cli.Client;
using Pilotage.Server.Changes;

namespace Pilotage.Cli.Changes;

/// <summary>
/// <c>pilotage changes [SYSTEM]</c> and <c>pilotage change show|approve|reject|withdraw|apply ID</c>:
/// config and upstream changes of systems past their pilot (docs/change-control.md).
/// </summary>
internal static class ChangeCommands
{
    private static readonly string[] Statuses = [.. ChangeStatuses.All.Select(s => s.Name())];

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
            using var call = cli.Call(parse, ct);
            return call.Table(await call.GetAsync("api/v1/changes" + (query.Count > 0 ? "?" + string.Join('&', query) : "")), ChangesJsonContext.Default.IReadOnlyListChangeRequestView,
                ["ID", "SYSTEM", "STATUS", "RISK", "REQUESTED BY", "REQUESTED", "CHANGES", "GATE"],
                c =>
                [
                    Args.Number(c.Id), c.System, c.Status, c.Risk, c.RequestedBy, Output.Time(c.RequestedAt),
                    Args.Short(string.Join(", ", c.Diff.Select(d => d.Path)), 60), Gate(c.Gate),
                ],
                only is null ? "no change requests" : $"no change requests for {only}");
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
            using var call = cli.Call(parse, ct);
            return call.Show(await call.GetAsync($"api/v1/changes/{Args.Number(parse.GetValue(id))}"), ChangesJsonContext.Default.ChangeRequestView, c => Print(call.Output, c));
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
            using var call = cli.Call(parse, ct);
            var answer = await call.SendAsync(HttpMethod.Post, $"api/v1/changes/{Args.Number(number)}/{verb}",
                new ChangeDecisionRequest(why), ChangesJsonContext.Default.ChangeDecisionRequest);
            return call.ShowLine(answer, ChangesJsonContext.Default.ChangeRequestView, view => ChangeStatuses.Parse(view.Status) == ChangeStatus.Applied
                ? string.Create(CultureInfo.InvariantCulture, $"change request {view.Id} applied: {view.System} now serves config v{view.AppliedVersion}")
                : $"change request {view.Id} of {view.System} is {view.Status}");
        });
        return command;
    }

    /// <summary>What `apply` prints for a change request it opened: its id and the diff that waits for approval.</summary>
    internal static void PrintRequested(Output output, string slug, long id, IEnumerable<SpecChangeView> changes)
    {
        output.Line($"{slug}: change request {Args.Number(id)} opened; the configuration in force is unchanged until it is approved and applied (pilotage change approve|apply {Args.Number(id)})");
        foreach (var change in changes) output.Line($"  {change.Path}: {change.Before ?? "(none)"} -> {change.After ?? "(removed)"}");
    }

    private static void Print(Output output, ChangeRequestView c)
    {
        output.Fields(
        [
            ("Change request", Args.Number(c.Id)),
            ("System", $"{c.System} (risk {c.Risk})"),
            ("Status", c.Status),
            ("Requested", $"{c.RequestedBy} at {Output.Time(c.RequestedAt)}, against config v{c.BaseVersion}"),
            ("Decided", c.DecidedBy is null ? "-" : $"{c.DecidedBy} at {Output.Time(c.DecidedAt)}{(c.DecisionReason is null ? "" : ": " + Args.OneLine(c.DecisionReason))}"),
            ("Applied", c.AppliedBy is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{c.AppliedBy} at {Output.Time(c.AppliedAt)} as config v{c.AppliedVersion}")),
            ("Gate", Gate(c.Gate)),
        ]);
        output.Line("Diff:");
        foreach (var change in c.Diff) output.Line($"  {change.Path}: {change.Before ?? "(none)"} -> {change.After ?? "(removed)"}");
    }

    private static string Gate(RegressionGateResult? gate) => gate is null ? "-" : string.Create(CultureInfo.InvariantCulture,
        $"{(gate.Passed ? "passed" : "refused")}: pass_rate {gate.BaselinePassRate:0.###} -> {gate.CandidatePassRate:0.###} on {gate.TestSet} (max drop {gate.MaxPassRateDrop:0.###})");

    /// <summary><c>pilotage metrics SYSTEM --by-version</c>: the key figures of every config version side by side.</summary>
    internal static async Task<int> ByVersionAsync(CliContext cli, ParseResult parse, string slug, CancellationToken ct)
    {
        using var call = cli.Call(parse, ct);
        return call.Show(await call.GetAsync($"api/v1/systems/{Args.Escape(slug)}/metrics/versions"), ChangesJsonContext.Default.IReadOnlyListVersionMetricsView,
            versions => SideBySide(call.Output, slug, versions));
    }

    private static void SideBySide(Output output, string slug, IReadOnlyList<VersionMetricsView> versions)
    {
        var headers = new List<string> { "METRIC" };
        headers.AddRange(versions.Select(v => $"v{Args.Number(v.ConfigVersion)}{(v.Current ? " *" : "")}"));
        var rows = ChangeRequestQueries.KeyMetrics.Select(metric => (IReadOnlyList<string>)
            [metric, .. versions.Select(v => v.Metrics.TryGetValue(metric, out var m) && m.Value is { } value
                ? $"{Pilotage.Core.Metrics.MetricCatalogue.Format(metric, value)} ({Evidence.MetricsCommand.Samples(m.N)})" : "-")]).ToList();
        output.Table(headers, rows, $"no config versions recorded for {slug}");
    }

    private static Argument<long> IdArgument() => new("ID") { Description = "The change request's number, as 'pilotage changes' lists it" };
}
