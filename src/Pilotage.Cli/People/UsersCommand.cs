using System.CommandLine;
using Pilotage.Cli.Client;
using Pilotage.Server.People;

namespace Pilotage.Cli.People;

/// <summary><c>pilotage users add|list|show|set</c>: who may use and govern AI systems, and in which role.</summary>
internal static class UsersCommand
{
    private const string RoleHelp = "admin, owner, reviewer, auditor or member";

    public static Command Create(CliContext cli)
    {
        var users = new Command("users", "Manage people: add them, list them, change their role or deactivate them. People are identified by e-mail.");
        users.Subcommands.Add(Add(cli));
        users.Subcommands.Add(List(cli));
        users.Subcommands.Add(Show(cli));
        users.Subcommands.Add(Set(cli));
        return users;
    }

    private static Command Add(CliContext cli)
    {
        var email = new Argument<string>("EMAIL") { Description = "The person's e-mail address, e.g. dana@example.org" };
        var role = new Option<string?>("--role") { Description = $"What they may do: {RoleHelp} [default: member]", HelpName = "ROLE" };
        var groups = new Option<string?>("--groups") { Description = "Comma-separated groups to put them in (missing groups are created), e.g. support-pilot,support", HelpName = "G1,G2" };
        var name = new Option<string?>("--name") { Description = "Display name, e.g. \"Dana Smith\"", HelpName = "NAME" };
        var command = cli.ClientCommand("add", "Add a person with a role and, optionally, groups.");
        command.Arguments.Add(email);
        command.Options.Add(role);
        command.Options.Add(groups);
        command.Options.Add(name);
        command.SetAction(async (parse, ct) =>
        {
            using var call = cli.Call(parse, ct);
            var groupList = (parse.GetValue(groups) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var request = new CreateUserRequest(parse.GetValue(email), parse.GetValue(role), groupList, parse.GetValue(name));
            var answer = await call.SendAsync(HttpMethod.Post, "api/v1/users", request, PeopleApiJsonContext.Default.CreateUserRequest);
            return call.ShowLine(answer, PeopleApiJsonContext.Default.UserView,
                user => $"added {user.Email} (role {user.Role}{(user.Groups.Count > 0 ? ", groups " + string.Join(", ", user.Groups) : "")})");
        });
        return command;
    }

    private static Command List(CliContext cli)
    {
        var command = cli.ClientCommand("list", "List everyone with their role, groups and whether they are active.");
        command.SetAction(async (parse, ct) =>
        {
            using var call = cli.Call(parse, ct);
            return call.Table(await call.GetAsync("api/v1/users"), PeopleApiJsonContext.Default.IReadOnlyListUserView,
                ["EMAIL", "NAME", "ROLE", "ACTIVE", "GROUPS"],
                u => [u.Email, u.DisplayName ?? "-", u.Role, u.Active ? "yes" : "no", u.Groups.Count == 0 ? "-" : string.Join(",", u.Groups)],
                "no users");
        });
        return command;
    }

    private static Command Show(CliContext cli)
    {
        var email = new Argument<string>("EMAIL") { Description = "The person's e-mail address" };
        var command = cli.ClientCommand("show", "Show one person: their role and why they have it (the admin's choice or a directory group's mapping), their groups and whether they are active.");
        command.Arguments.Add(email);
        command.SetAction(async (parse, ct) =>
        {
            using var call = cli.Call(parse, ct);
            var answer = await call.GetAsync($"api/v1/users/{Args.Escape(parse.GetValue(email)!)}");
            return call.ShowLine(answer, PeopleApiJsonContext.Default.UserView, user => string.Join(Environment.NewLine,
            [
                $"{user.Email}{(user.DisplayName is null ? "" : $" ({user.DisplayName})")}",
                $"  role:     {user.Role}",
                $"  why:      {user.RoleReason ?? "given by an admin"}",
                $"  assigned: {user.AssignedRole ?? user.Role} (the role an admin gave; in force when no mapped group gives one)",
                $"  groups:   {(user.Groups.Count == 0 ? "-" : string.Join(", ", user.Groups))}",
                $"  active:   {(user.Active ? "yes" : "no")}",
            ]));
        });
        return command;
    }

    private static Command Set(CliContext cli)
    {
        var email = new Argument<string>("EMAIL") { Description = "The person's e-mail address" };
        var role = new Option<string?>("--role") { Description = $"New role: {RoleHelp}", HelpName = "ROLE" };
        var active = new Option<bool?>("--active") { Description = "false deactivates the account (its keys stop working); true reactivates it", HelpName = "true|false" };
        var name = new Option<string?>("--name") { Description = "New display name", HelpName = "NAME" };
        var command = cli.ClientCommand("set", "Change a person's role, display name or active flag.");
        command.Arguments.Add(email);
        command.Options.Add(role);
        command.Options.Add(active);
        command.Options.Add(name);
        command.SetAction(async (parse, ct) =>
        {
            var request = new UpdateUserRequest(parse.GetValue(role), parse.GetValue(active), parse.GetValue(name));
            if (request.Role is null && request.Active is null && request.DisplayName is null)
            {
                throw new CliException("nothing to change: give --role, --active or --name", ExitCodes.Usage);
            }
            using var call = cli.Call(parse, ct);
            var answer = await call.SendAsync(HttpMethod.Patch, $"api/v1/users/{Args.Escape(parse.GetValue(email)!)}", request, PeopleApiJsonContext.Default.UpdateUserRequest);
            return call.ShowLine(answer, PeopleApiJsonContext.Default.UserView, user => $"{user.Email}: role {user.Role}, {(user.Active ? "active" : "deactivated")}");
        });
        return command;
    }
}
