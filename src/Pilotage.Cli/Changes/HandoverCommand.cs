using System.CommandLine;
using Pilotage.Cli.Client;
using Pilotage.Server.Changes;

namespace Pilotage.Cli.Changes;

/// <summary>
/// <c>pilotage handover SYSTEM --to EMAIL | --accept | --cancel</c>: ownership moves only when the
/// proposed owner accepts (docs/change-control.md, "Ownership").
/// </summary>
internal static class HandoverCommand
{
    public static Command Create(CliContext cli)
    {
        var system = Args.System();
        var to = new Option<string?>("--to") { Description = "Propose this person as the new owner (they must accept)", HelpName = "EMAIL" };
        var accept = new Option<bool>("--accept") { Description = "Accept the system you were proposed as owner of" };
        var cancel = new Option<bool>("--cancel") { Description = "Cancel a pending handover (owner, admin) or decline it (the proposed owner)" };
        var reason = new Option<string?>("--reason") { Description = "Why: kept in the audit trail", HelpName = "TEXT" };
        var command = cli.ClientCommand("handover", "Hand a system over to a new owner: propose with --to, the new owner confirms with --accept. A system whose owner is deactivated stays orphaned until then.");
        command.Arguments.Add(system);
        command.Options.Add(to);
        command.Options.Add(accept);
        command.Options.Add(cancel);
        command.Options.Add(reason);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            var target = Args.Blank(parse.GetValue(to));
            var chosen = (target is null ? 0 : 1) + (parse.GetValue(accept) ? 1 : 0) + (parse.GetValue(cancel) ? 1 : 0);
            if (chosen != 1) throw new CliException($"say one of: pilotage handover {slug} --to EMAIL | --accept | --cancel", ExitCodes.Usage);
            var path = $"api/v1/systems/{Args.Escape(slug)}/handover";
            using var call = cli.Call(parse, ct);
            var answer = target is not null
                ? await call.SendAsync(HttpMethod.Post, path, new HandoverRequest(target, Args.Blank(parse.GetValue(reason))), ChangesJsonContext.Default.HandoverRequest)
                : parse.GetValue(accept)
                    ? await call.SendAsync(HttpMethod.Post, path + "/accept")
                    : await call.SendAsync(HttpMethod.Delete, path);
            return call.ShowLine(answer, ChangesJsonContext.Default.OwnershipView, view => view.PendingOwner is { } pending
                ? $"{view.System}: handover to {pending} proposed; it takes effect when they run 'pilotage handover {view.System} --accept'"
                : $"{view.System}: owned by {view.Owner}{(view.Orphaned ? " (orphaned: the owner is deactivated)" : "")}");
        });
        return command;
    }
}
