using System.CommandLine;
using System.Globalization;
using Pilotage.Cli.Client;
using Pilotage.Server.Changes;

namespace Pilotage.Cli.Changes;

/// <summary>
/// <c>pilotage purge SYSTEM [--older-than DAYS]</c> and <c>pilotage hold SYSTEM --reason TEXT | --release</c>:
/// retention of raw content and the legal hold that stops it (docs/change-control.md, "Retention").
/// </summary>
internal static class RetentionCommands
{
    public static Command Purge(CliContext cli)
    {
        var system = Args.System();
        var olderThan = new Option<int?>("--older-than")
        {
            Description = "Blank content older than this many days [default: the spec's evidence.contentDays]",
            HelpName = "DAYS",
        };
        olderThan.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1) result.AddError("--older-than must be 1 or more days");
        });
        var command = cli.ClientCommand("purge", "Blank a system's raw content (prompts, answers, edited texts, comments) older than its retention period, keeping hashes, figures and review outcomes. Recorded in the audit trail; refused under legal hold.");
        command.Arguments.Add(system);
        command.Options.Add(olderThan);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            using var call = cli.Call(parse, ct);
            var answer = await call.SendAsync(HttpMethod.Post, $"api/v1/systems/{Args.Escape(slug)}/purge",
                new PurgeRequest(parse.GetValue(olderThan)), ChangesJsonContext.Default.PurgeRequest);
            return call.ShowLine(answer, ChangesJsonContext.Default.PurgeView, view => string.Create(CultureInfo.InvariantCulture,
                $"{view.System}: content older than {view.OlderThanDays} days blanked: {view.Interactions} interactions, {view.Reviews} reviews, {view.Approvals} held answers, {view.Feedback} comments (hashes, figures and outcomes kept)"));
        });
        return command;
    }

    public static Command Hold(CliContext cli)
    {
        var system = Args.System();
        var reason = new Option<string?>("--reason") { Description = "The matter the evidence is preserved for (required to place a hold)", HelpName = "TEXT" };
        var release = new Option<bool>("--release") { Description = "Release the hold: purging resumes" };
        var command = cli.ClientCommand("hold", "Place a legal hold on a system (auditor or admin): none of its content is purged until the hold is released with --release.");
        command.Arguments.Add(system);
        command.Options.Add(reason);
        command.Options.Add(release);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            var why = Args.Blank(parse.GetValue(reason));
            var releasing = parse.GetValue(release);
            if (!releasing && why is null) throw new CliException($"a legal hold needs a reason: pilotage hold {slug} --reason \"…\" (or --release)", ExitCodes.Usage);
            using var call = cli.Call(parse, ct);
            var answer = await call.SendAsync(HttpMethod.Post, $"api/v1/systems/{Args.Escape(slug)}/hold" + (releasing ? "/release" : ""),
                new HoldRequest(why), ChangesJsonContext.Default.HoldRequest);
            return call.ShowLine(answer, ChangesJsonContext.Default.LegalHoldView, view => view.Held
                ? $"{view.System}: under legal hold ({view.Reason}); nothing is purged until it is released"
                : $"{view.System}: legal hold released by {view.By}; purging resumes");
        });
        return command;
    }
}
