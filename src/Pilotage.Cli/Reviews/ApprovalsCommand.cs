using System.CommandLine;
using Pilotage.Cli.Client;
using Pilotage.Core.Evidence;
using Pilotage.Server.Reviews;

namespace Pilotage.Cli.Reviews;

/// <summary>
/// <c>pilotage approvals [release|reject]</c>: answers held by systems in approval mode. A reviewer
/// of the system, its owner or an admin releases each to the app that asked, or rejects it.
/// </summary>
internal static class ApprovalsCommand
{
    internal static readonly string[] States = [.. ApprovalStates.Names];

    public static Command Create(CliContext cli)
    {
        var system = new Option<string?>("--system")
        {
            Description = "Only this system's held answers",
            HelpName = "SYSTEM",
        };
        var state = new Option<string?>("--state")
        {
            Description = "Which answers to list: pending, released or rejected [default: pending]",
            HelpName = "STATE",
        };
        Systems.LifecycleCommands.OneOf(state, States, "state");
        var command = cli.ClientCommand("approvals", "List answers held for approval (systems in 'approval' mode), oldest first; release or reject them with 'approvals release|reject ID'.");
        command.Options.Add(system);
        command.Options.Add(state);
        command.Subcommands.Add(Release(cli));
        command.Subcommands.Add(Reject(cli));
        command.SetAction(async (parse, ct) =>
        {
            var only = Blank(parse.GetValue(system));
            var which = parse.GetValue(state) ?? ApprovalStates.Pending;
            var query = $"api/v1/approvals?state={Uri.EscapeDataString(which)}";
            if (only is not null) query += $"&system={Uri.EscapeDataString(only)}";
            var scope = only is null ? "" : $" for {only}";
            using var call = cli.Call(parse, ct);
            return call.Table(await call.GetAsync(query), ReviewsApiJsonContext.Default.IReadOnlyListApprovalView,
                ["ID", "SYSTEM", "STATE", "HELD", "DECIDED BY", "DECIDED", "REASON"],
                a =>
                [
                    a.InteractionId, a.System, a.State, Output.Time(a.HeldAt), a.DecidedBy ?? "-", Output.Time(a.DecidedAt),
                    a.Reason is null ? "-" : a.Reason.ReplaceLineEndings(" ").Trim(),
                ],
                which == ApprovalStates.Pending ? $"no answers waiting for approval{scope}; nothing to review" : $"no {which} answers{scope}");
        });
        return command;
    }

    private static Command Release(CliContext cli)
    {
        var id = IdArgument();
        var reason = new Option<string?>("--reason") { Description = "A note kept with the release and in the audit trail", HelpName = "TEXT" };
        var command = cli.ClientCommand("release", "Release a held answer: the app that asked can then fetch it.");
        command.Arguments.Add(id);
        command.Options.Add(reason);
        command.SetAction(async (parse, ct) =>
        {
            var interaction = parse.GetValue(id)!;
            return await DecideAsync(cli, parse, interaction, "release", Blank(parse.GetValue(reason)), ct);
        });
        return command;
    }

    private static Command Reject(CliContext cli)
    {
        var id = IdArgument();
        var reason = new Option<string?>("--reason") { Description = "Why (required): the app and the evidence report show it", HelpName = "TEXT" };
        var command = cli.ClientCommand("reject", "Reject a held answer: the app that asked gets the refusal and the reason, never the answer.");
        command.Arguments.Add(id);
        command.Options.Add(reason);
        command.SetAction(async (parse, ct) =>
        {
            var interaction = parse.GetValue(id)!;
            var why = Blank(parse.GetValue(reason))
                ?? throw new CliException($"a rejection needs a reason: pilotage approvals reject {interaction} --reason \"…\" (the app and the evidence report show it)", ExitCodes.Usage);
            return await DecideAsync(cli, parse, interaction, "reject", why, ct);
        });
        return command;
    }

    private static async Task<int> DecideAsync(CliContext cli, ParseResult parse, string interaction, string verb, string? reason, CancellationToken ct)
    {
        using var call = cli.Call(parse, ct);
        var answer = await call.SendAsync(HttpMethod.Post, $"api/v1/approvals/{Args.Escape(interaction)}/{verb}",
            new ReasonBody(reason), ReviewsApiJsonContext.Default.ReasonBody);
        return call.ShowLine(answer, ReviewsApiJsonContext.Default.ApprovalView, view => view.State == ApprovalStates.Released
            ? $"released {view.InteractionId} ({view.System}); the app can now fetch it"
            : $"rejected {view.InteractionId} ({view.System}): {view.Reason}");
    }

    private static Argument<string> IdArgument() => new("ID")
    {
        Description = "The held interaction's id, as listed by 'pilotage approvals'",
    };

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
