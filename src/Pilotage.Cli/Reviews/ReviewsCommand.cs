using System.CommandLine;
using System.Globalization;
using Pilotage.Cli.Client;
using Pilotage.Core.Evidence;
using Pilotage.Server.Reviews;

namespace Pilotage.Cli.Reviews;

/// <summary>
/// <c>pilotage reviews</c> (the queue of the systems you review, oldest first) and
/// <c>pilotage review ID OUTCOME</c> (accept, edit, reject or escalate one answer).
/// </summary>
internal static class ReviewsCommand
{
    internal static readonly string[] Outcomes = [.. ReviewOutcomes.Names];

    public static Command Queue(CliContext cli)
    {
        var system = new Option<string?>("--system") { Description = "Only this system's queue", HelpName = "SYSTEM" };
        var limit = Args.Positive("--limit", 50, "How many items to list, oldest first", 1, 500);
        var command = cli.ClientCommand("reviews", "List the answers waiting for review in the systems you review, oldest first; record a review with 'pilotage review ID OUTCOME'.");
        command.Options.Add(system);
        command.Options.Add(limit);
        command.SetAction(async (parse, ct) =>
        {
            var only = Args.Blank(parse.GetValue(system));
            var query = $"api/v1/reviews?limit={parse.GetValue(limit).ToString(CultureInfo.InvariantCulture)}";
            if (only is not null) query += "&system=" + Args.Escape(only);
            using var call = cli.Call(parse, ct);
            return call.Table(await call.GetAsync(query), ReviewsApiJsonContext.Default.IReadOnlyListReviewQueueItem,
                ["ID", "SYSTEM", "KIND", "WAITING", "OPENED BY", "ANSWER"],
                i => [i.InteractionId, i.System, i.Held ? i.Kind + " (held)" : i.Kind, Age(i.AgeSeconds), i.OpenedBy ?? "-", Args.Short(i.Answer ?? "-", 60)],
                only is null ? "no answers waiting for review; the queue is empty" : $"no answers waiting for review for {only}; the queue is empty");
        });
        return command;
    }

    public static Command Review(CliContext cli)
    {
        var id = new Argument<string>("ID") { Description = "The interaction's id, as listed by 'pilotage reviews' (x-pilotage-interaction-id)" };
        var outcome = new Argument<string>("OUTCOME") { Description = "accepted, edited (give the final text), rejected or escalated" };
        Systems.LifecycleCommands.OneOf(outcome, Outcomes, "outcome");
        var finalText = new Option<string?>("--final-text") { Description = "The text as it was sent after editing (with 'edited')", HelpName = "TEXT" };
        var finalFile = new Option<string?>("--final-file") { Description = "Read the final text from a file", HelpName = "FILE" };
        var reason = new Option<string?>("--reason") { Description = "Why: kept with the review (expected for rejected and escalated)", HelpName = "TEXT" };
        var seconds = new Option<double?>("--seconds") { Description = "How long the review took, in seconds [default: measured from when it was opened]", HelpName = "N" };
        seconds.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double?>() is < 0) result.AddError("--seconds cannot be negative");
        });
        var tags = new Option<string[]>("--tag")
        {
            Description = "A tag such as out_of_scope; repeat for more",
            HelpName = "TAG",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var escalateTo = new Option<string?>("--escalate-to") { Description = "With 'escalated': who takes it over (an e-mail)", HelpName = "EMAIL" };
        var command = cli.ClientCommand("review", "Record the review of one answer: accepted, edited (with the final text), rejected or escalated. A newer review replaces the previous one.");
        command.Arguments.Add(id);
        command.Arguments.Add(outcome);
        command.Options.Add(finalText);
        command.Options.Add(finalFile);
        command.Options.Add(reason);
        command.Options.Add(seconds);
        command.Options.Add(tags);
        command.Options.Add(escalateTo);
        command.SetAction(async (parse, ct) =>
        {
            var interaction = parse.GetValue(id)!;
            var what = parse.GetValue(outcome)!;
            var text = parse.GetValue(finalText);
            var file = Args.Blank(parse.GetValue(finalFile));
            if (text is not null && file is not null) throw new CliException("give the final text either with --final-text or with --final-file, not both", ExitCodes.Usage);
            if (file is not null)
            {
                if (!File.Exists(file)) throw new CliException($"file not found: {file}");
                text = await File.ReadAllTextAsync(file, ct);
            }
            if (what == "edited" && string.IsNullOrWhiteSpace(text))
            {
                throw new CliException($"an edited answer needs its final text: pilotage review {interaction} edited --final-text \"…\" (or --final-file FILE)", ExitCodes.Usage);
            }
            var tagList = parse.GetValue(tags) is { Length: > 0 } given ? given.Select(t => t.Trim()).Where(t => t.Length > 0).ToList() : null;
            var body = new ReviewRequest(what, text, parse.GetValue(seconds), null, Args.Blank(parse.GetValue(reason)), tagList, Args.Blank(parse.GetValue(escalateTo)));
            using var call = cli.Call(parse, ct);
            var answer = await call.SendAsync(HttpMethod.Post, $"api/v1/interactions/{Args.Escape(interaction)}/review", body, ReviewsApiJsonContext.Default.ReviewRequest);
            return call.ShowLine(answer, ReviewsApiJsonContext.Default.ReviewReceipt, Receipt);
        });
        return command;
    }

    private static string Receipt(ReviewReceipt receipt)
    {
        var review = receipt.Review;
        var line = receipt.Status switch
        {
            ReceiptStatuses.Replaced => $"{review.InteractionId} ({review.System}): review replaced, now {review.Outcome}",
            ReceiptStatuses.Unchanged => $"{review.InteractionId} ({review.System}): already reviewed {review.Outcome}; nothing changed",
            _ => $"{review.InteractionId} ({review.System}): {review.Outcome}",
        };
        return receipt.Approval is { } approval ? line + $"; held answer {approval}" : line;
    }

    private static string Age(double seconds) => seconds switch
    {
        < 60 => "just now",
        < 3600 => $"{(int)(seconds / 60)} min",
        < 48 * 3600 => $"{(seconds / 3600).ToString("0.#", CultureInfo.InvariantCulture)} h",
        _ => $"{(int)(seconds / 86400)} d",
    };
}
