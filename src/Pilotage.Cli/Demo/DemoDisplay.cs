using System.Globalization;
using System.Text.Json.Serialization;
using Pilotage.Cli.Client;
using Pilotage.Core.Evidence;
using Spectre.Console;

namespace Pilotage.Cli.Demo;

/// <summary>The request body the simulated agents send: the official OpenAI shape, nothing Pilotage-specific.</summary>
internal sealed record ChatBody(string Model, IReadOnlyList<ChatMessage> Messages, bool? Stream);

internal sealed record ChatMessage(string Role, string Content);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatBody))]
internal sealed partial class DemoJsonContext : JsonSerializerContext;

/// <summary>What the pilot reports while it runs.</summary>
internal interface IPilotProgress
{
    void Asked(DemoTicket ticket, string result);

    void Reviewed(DemoTicket ticket, ReviewVerdict verdict);

    /// <summary>The gateway refused a ticket because the system no longer serves.</summary>
    void Refused(DemoTicket ticket, string status, string message);

    /// <summary>A line worth reading on its own (a blocked request, the wave, the refusal).</summary>
    void Say(string text);
}

/// <summary>
/// The demo's output: a live progress display on a terminal, plain lines otherwise (tests, CI, pipes),
/// so a log of the demo reads like its screen.
/// </summary>
internal sealed class DemoDisplay
{
    private readonly CliContext _cli;
    private readonly IAnsiConsole? _terminal;

    private DemoDisplay(CliContext cli, IAnsiConsole? terminal)
    {
        _cli = cli;
        _terminal = terminal;
    }

    public static DemoDisplay Create(CliContext cli) => new(cli, cli.Console.Interactive
        ? AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(cli.Console.Out),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Yes,
        })
        : null);

    public void Title()
    {
        const string text = "Pilotage demo: a support team pilots AI reply drafts. The people and the model are simulated; Pilotage is real.";
        if (_terminal is null)
        {
            Line(text);
        }
        else
        {
            _terminal.Write(new Rule("[bold]Pilotage demo[/]").LeftJustified());
            _terminal.MarkupLine("A support team pilots AI reply drafts. [yellow]The people and the model are simulated[/]; Pilotage is real.");
        }
        Line("");
    }

    public void Line(string text) => _cli.Output.Line(text);

    public void Done(string text)
    {
        if (_terminal is null) Line("* " + text);
        else _terminal.MarkupLine("[green]✓[/] " + Markup.Escape(text));
    }

    public void Heading(string text)
    {
        if (_terminal is null) Line(text);
        else _terminal.Write(new Rule($"[bold]{Markup.Escape(text)}[/]").LeftJustified());
    }

    public void Fact(string label, string value)
    {
        var padded = (label + ":").PadRight(16);
        if (_terminal is null)
        {
            Line("  " + padded + value);
            return;
        }
        var colour = label switch
        {
            "pause rule" when value.StartsWith("FIRED", StringComparison.Ordinal) => "red",
            "recommendation" => "yellow",
            "report" => "cyan",
            _ => "default",
        };
        _terminal.MarkupLine($"  [bold]{Markup.Escape(padded)}[/][{colour}]{Markup.Escape(value)}[/]");
    }

    /// <summary>Runs the pilot under a live display: two bars (tickets, reviews) and the running tallies.</summary>
    public async Task<PilotTally> RunPilotAsync(int ordinary, int wave, Func<IPilotProgress, Task> work)
    {
        var tally = new PilotTally();
        Line("");
        if (_terminal is null)
        {
            Line($"The pilot: {ordinary.ToString(CultureInfo.InvariantCulture)} ordinary tickets, then a wave of up to {wave.ToString(CultureInfo.InvariantCulture)} about a new product");
            await work(new PlainProgress(this, tally));
            Line(tally.Describe());
            return tally;
        }
        _terminal.Write(new Rule("[bold]The pilot[/]").LeftJustified());
        await _terminal.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var asked = context.AddTask("tickets", maxValue: ordinary + wave);
                var reviewed = context.AddTask("reviews", maxValue: ordinary + wave);
                await work(new LiveProgress(_terminal, tally, asked, reviewed));
                asked.Value = asked.MaxValue;
                reviewed.Value = reviewed.MaxValue;
            });
        return tally;
    }

    /// <summary>After the pilot, while serving: where to look and what to try by hand.</summary>
    public void Serving(string address, string adminToken, string agentKey, string agent, bool paused)
    {
        Line("");
        Heading("Look around (Ctrl-C stops the demo)");
        Fact("dashboard", $"{address}/dashboard");
        Fact("sign in with", adminToken + "   (the admin token of this demo server)");
        Fact("API reference", $"{address}/openapi/v1.json");
        Line("");
        Line($"Try it as {agent} would, with any OpenAI client (only the base URL and the key differ):");
        Line("");
        Line($"  export PILOTAGE_SERVER={address} PILOTAGE_TOKEN={adminToken} MIA_KEY={agentKey}");
        Line("");
        Line($"  curl -s $PILOTAGE_SERVER/v1/chat/completions -H \"Authorization: Bearer $MIA_KEY\" -H 'Content-Type: application/json' -d '{{\"model\":\"{DemoScript.System}\",\"messages\":[{{\"role\":\"user\",\"content\":\"Where is my order 4711?\"}}]}}'");
        if (paused)
        {
            Line($"  ./pilotage resume {DemoScript.System} --reason \"X200 policy added to the knowledge base\"   # then the curl above is served again");
        }
        else
        {
            Line($"  ./pilotage pause {DemoScript.System} --reason \"trying the kill switch\"   # then the curl above is refused");
        }
        Line($"  python3 -c \"from openai import OpenAI; c = OpenAI(base_url='{address}/v1', api_key='{agentKey}'); print(c.chat.completions.create(model='{DemoScript.System}', messages=[{{'role': 'user', 'content': 'Can I return the jacket?'}}]).choices[0].message.content)\"");
        Line("");
        Line("More: ./pilotage status | ./pilotage metrics " + DemoScript.System + " | ./pilotage reviews | ./pilotage audit verify   (C# and JavaScript clients: examples/clients/)");
    }

    /// <summary>Unsafe answers caught and escalations are the story's point, so they get a line even before the wave.</summary>
    private static bool Notable(ReviewVerdict verdict) =>
        ReviewOutcomes.Parse(verdict.Outcome) == ReviewOutcome.Escalated || (verdict.Tags?.Contains("unsafe") ?? false);

    private static string Describe(ReviewVerdict verdict) =>
        verdict.Outcome
        + (verdict.EscalatedTo is null ? "" : " to " + verdict.EscalatedTo)
        + (verdict.Reason is null ? "" : " (" + verdict.Reason + ")");

    private sealed class PlainProgress(DemoDisplay display, PilotTally tally) : IPilotProgress
    {
        public void Asked(DemoTicket ticket, string result) => tally.Asked(result);

        public void Reviewed(DemoTicket ticket, ReviewVerdict verdict)
        {
            var count = tally.Reviewed(verdict.Outcome);
            // Every 10th review, the notable ones and every review of the wave: enough to follow without flooding a log.
            if (count % 10 == 0 || ticket.Wave || Notable(verdict)) display.Line($"  ticket {ticket.Number.ToString(CultureInfo.InvariantCulture)} {Describe(verdict)}; {tally.Describe()}");
        }

        public void Refused(DemoTicket ticket, string status, string message) =>
            display.Line($"  ticket {ticket.Number.ToString(CultureInfo.InvariantCulture)}: REFUSED by the gateway — {status}: {message}");

        public void Say(string text) => display.Line("  " + text);
    }

    private sealed class LiveProgress(IAnsiConsole terminal, PilotTally tally, ProgressTask asked, ProgressTask reviewed) : IPilotProgress
    {
        public void Asked(DemoTicket ticket, string result)
        {
            tally.Asked(result);
            asked.Increment(1);
            asked.Description = Markup.Escape($"tickets  {tally.DescribeAsked()}");
        }

        public void Reviewed(DemoTicket ticket, ReviewVerdict verdict)
        {
            tally.Reviewed(verdict.Outcome);
            reviewed.Increment(1);
            reviewed.Description = Markup.Escape($"reviews  {tally.DescribeReviews()}");
            if (ticket.Wave || Notable(verdict))
            {
                var colour = ReviewOutcomes.Parse(verdict.Outcome) == ReviewOutcome.Rejected ? "red" : "default";
                terminal.MarkupLine($"  ticket {ticket.Number.ToString(CultureInfo.InvariantCulture)} [{colour}]{Markup.Escape(verdict.Outcome)}[/]{Markup.Escape(Describe(verdict)[verdict.Outcome.Length..])}");
            }
        }

        // Short on a terminal (a wrapped line under a live display garbles it); the summary has the whole message.
        public void Refused(DemoTicket ticket, string status, string message) =>
            terminal.MarkupLine($"  ticket {ticket.Number.ToString(CultureInfo.InvariantCulture)}: [bold red]REFUSED by the gateway[/] ({Markup.Escape(status)}): the system is paused");

        public void Say(string text) => terminal.MarkupLine("  " + Markup.Escape(text));
    }
}

/// <summary>Running counts of the pilot, safe to update from the agents' parallel requests.</summary>
internal sealed class PilotTally
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    public void Asked(string result)
    {
        lock (_lock) _counts["asked:" + result] = _counts.GetValueOrDefault("asked:" + result) + 1;
    }

    public int Reviewed(string outcome)
    {
        lock (_lock)
        {
            _counts[outcome] = _counts.GetValueOrDefault(outcome) + 1;
            return _counts.Where(c => !c.Key.StartsWith("asked:", StringComparison.Ordinal)).Sum(c => c.Value);
        }
    }

    private int Get(string key)
    {
        lock (_lock) return _counts.GetValueOrDefault(key);
    }

    public string DescribeAsked() => string.Create(CultureInfo.InvariantCulture,
        $"served {Get("asked:served")}, blocked {Get("asked:blocked")}, refused {Get("asked:refused")}");

    public string DescribeReviews() => string.Create(CultureInfo.InvariantCulture,
        $"accepted {Get("accepted")}, edited {Get("edited")}, rejected {Get("rejected")}, escalated {Get("escalated")}");

    public string Describe() => DescribeAsked() + "; " + DescribeReviews();
}
