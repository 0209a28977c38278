using System.CommandLine;
using Pilotage.Cli.Client;
using Pilotage.Server.People;

namespace Pilotage.Cli.People;

/// <summary><c>pilotage groups add|list|add-member|remove-member</c>: groups decide who may use which system.</summary>
internal static class GroupsCommand
{
    public static Command Create(CliContext cli)
    {
        var groups = new Command("groups", "Manage groups of people. A system's pilot and rollout stages name the groups allowed to use it.");
        groups.Subcommands.Add(Add(cli));
        groups.Subcommands.Add(List(cli));
        groups.Subcommands.Add(Membership(cli, "add-member", "Put a person in a group.", HttpMethod.Put));
        groups.Subcommands.Add(Membership(cli, "remove-member", "Take a person out of a group.", HttpMethod.Delete));
        return groups;
    }

    private static Command Add(CliContext cli)
    {
        var name = new Argument<string>("NAME") { Description = "Group name: lowercase letters, digits, '-', '_' or '.', e.g. support-pilot" };
        var description = new Option<string?>("--description") { Description = "What the group is for", HelpName = "TEXT" };
        var command = cli.ClientCommand("add", "Create a group.");
        command.Arguments.Add(name);
        command.Options.Add(description);
        command.SetAction(async (parse, ct) =>
        {
            using var call = cli.Call(parse, ct);
            var answer = await call.SendAsync(HttpMethod.Post, "api/v1/groups",
                new CreateGroupRequest(parse.GetValue(name), parse.GetValue(description)), PeopleApiJsonContext.Default.CreateGroupRequest);
            return call.ShowLine(answer, PeopleApiJsonContext.Default.GroupView, group => $"created group {group.Name}");
        });
        return command;
    }

    private static Command List(CliContext cli)
    {
        var command = cli.ClientCommand("list", "List groups with their members.");
        command.SetAction(async (parse, ct) =>
        {
            using var call = cli.Call(parse, ct);
            return call.Table(await call.GetAsync("api/v1/groups"), PeopleApiJsonContext.Default.IReadOnlyListGroupView,
                ["GROUP", "MEMBERS", "DESCRIPTION"],
                g => [g.Name, g.Members.Count == 0 ? "-" : string.Join(",", g.Members), g.Description ?? "-"],
                "no groups");
        });
        return command;
    }

    private static Command Membership(CliContext cli, string verb, string description, HttpMethod method)
    {
        var group = new Argument<string>("GROUP") { Description = "The group's name" };
        var email = new Argument<string>("EMAIL") { Description = "The person's e-mail address" };
        var command = cli.ClientCommand(verb, description);
        command.Arguments.Add(group);
        command.Arguments.Add(email);
        command.SetAction(async (parse, ct) =>
        {
            using var call = cli.Call(parse, ct);
            var answer = await call.SendAsync(method, $"api/v1/groups/{Args.Escape(parse.GetValue(group)!)}/members/{Args.Escape(parse.GetValue(email)!)}");
            return call.ShowLine(answer, PeopleApiJsonContext.Default.MembershipChange, change => change.Result switch
            {
                "added" => $"added {change.Email} to {change.Group}",
                "removed" => $"removed {change.Email} from {change.Group}",
                _ => method == HttpMethod.Put ? $"{change.Email} is already in {change.Group}" : $"{change.Email} was not in {change.Group}",
            });
        });
        return command;
    }
}
