using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Pilotage.Cli.Client;
using Pilotage.Core.Metrics;
using Pilotage.Core.Specs;
using Pilotage.Core.TestSets;
using Pilotage.Server.Gateway;
using Pilotage.Server.Pilots;
using Spectre.Console;

namespace Pilotage.Cli.Pilots;

/// <summary>What one case gave: the verdict, and what the gateway said when it refused.</summary>
internal sealed record CaseOutcome(TestCase Case, CaseVerdict Verdict, string? InteractionId, int? Status, string? Code, string? Message)
{
    public string Category => SpecEnum.ToName(Case.Category);

    public string VerdictName => SpecEnum.ToName(Verdict.Kind);

    public EvalResultInput ToInput() => new(Case.Id, Category, VerdictName, Verdict.Reason, InteractionId);
}

/// <summary>
/// One evaluation run: starts it, sends the cases through the gateway with bounded concurrency and
/// retries, posts the verdicts in batches while it goes, and finishes the run (completed, or
/// interrupted on Ctrl-C with what was done). The cases go through the gateway with the caller's key,
/// so they meet exactly the controls real traffic meets.
/// </summary>
internal sealed class EvalRunner(CliContext cli, ControlClient client, string slug, TestSet set, string hash, EvalOptions options, bool json, long? change = null)
{
    public const string InteractionHeader = "x-pilotage-interaction-id";

    /// <summary>Results are posted in batches of at most this many (the server takes up to 1000).</summary>
    internal const int BatchSize = 100;

    /// <summary>Backoff before retry n (0-based) is about BaseDelay × 2ⁿ, capped at <see cref="MaxDelay"/>; tests shorten it.</summary>
    internal static TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    internal static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    /// <summary>A Retry-After longer than this is cut to it: a run should not sit silent for an hour.</summary>
    internal static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(5);

    private readonly List<CaseOutcome> _outcomes = [];
    private readonly Lock _lock = new();

    public async Task<int> RunAsync(CancellationToken ct)
    {
        var started = await client.SendJsonAsync(HttpMethod.Post, $"api/v1/systems/{Args.Escape(slug)}/evals",
            new StartEvalRequest(set.Name, hash, set.Cases.Count, change), PilotsApiJsonContext.Default.StartEvalRequest, ct);
        var run = started.Deserialize(PilotsApiJsonContext.Default.EvalRunView)
            ?? throw new CliException($"the server sent an empty answer to starting an evaluation of '{slug}'");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var gateway = client.CreateGatewayClient(options.Concurrency);
        var poster = new ResultPoster(client, run.Id, () => stop.Cancel());
        var progress = new EvalProgress(cli, json, slug, set.Cases.Count);
        CaseOutcome? refused = null;
        Exception? failure = null;
        try
        {
            await progress.RunAsync(async () =>
            {
                // The first case goes alone: if the gateway turns the caller away, every case would be turned away too.
                var probe = await RunCaseAsync(gateway, run.Id, set.Cases[0], stop.Token);
                if (probe.Status is 401 or 403 or 423)
                {
                    refused = probe;
                    return;
                }
                Record(probe, poster, progress);
                var next = 0;
                var workers = Enumerable.Range(0, Math.Min(options.Concurrency, set.Cases.Count - 1)).Select(_ => Task.Run(async () =>
                {
                    while (true)
                    {
                        var index = Interlocked.Increment(ref next);
                        if (index >= set.Cases.Count) return;
                        stop.Token.ThrowIfCancellationRequested();
                        Record(await RunCaseAsync(gateway, run.Id, set.Cases[index], stop.Token), poster, progress);
                    }
                }, stop.Token)).ToList();
                await Task.WhenAll(workers);
            });
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Ctrl-C, or results could not be recorded: stop sending, keep what is done.
        }
        catch (Exception e)
        {
            failure = e;
        }
        await poster.CompleteAsync();

        var interrupted = refused is not null || failure is not null || poster.Failure is not null || stop.IsCancellationRequested;
        EvalRunView finished;
        try
        {
            finished = await FinishAsync(run.Id, (interrupted ? EvalRunStatus.Interrupted : EvalRunStatus.Completed).Name());
        }
        catch (CliException) when (failure is not null || poster.Failure is not null)
        {
            finished = run;
        }
        if (failure is not null) throw failure;
        if (poster.Failure is { } posting)
        {
            throw new CliException($"recording the results of evaluation run {Args.Number(run.Id)} failed ({Args.Number(poster.Posted)} of {Args.Number(set.Cases.Count)} recorded; the run is marked interrupted): {posting.Message}");
        }
        if (refused is not null)
        {
            throw new CliException(RefusalMessage(refused, run.Id));
        }

        Summary(finished);
        if (stop.IsCancellationRequested)
        {
            await cli.Console.Error.WriteLineAsync(
                $"error: interrupted: {Args.Number(finished.Recorded)} of {Args.Number(set.Cases.Count)} cases recorded in evaluation run {Args.Number(run.Id)} (marked interrupted)");
            return ExitCodes.Cancelled;
        }
        var errored = finished.Categories.Sum(c => c.Errors);
        if (errored > 0 && errored == finished.Recorded)
        {
            // Failing cases are results; a run where nothing ran is not.
            await cli.Console.Error.WriteLineAsync(
                $"error: every case of evaluation run {Args.Number(run.Id)} errored ({FirstError()}); nothing was judged");
            return ExitCodes.Failure;
        }
        return ExitCodes.Ok;
    }

    private string FirstError()
    {
        lock (_lock) return Args.OneLine(_outcomes.FirstOrDefault(o => o.Verdict.Kind == CaseVerdictKind.Error)?.Verdict.Reason ?? "no reason recorded");
    }

    private string RefusalMessage(CaseOutcome refused, long run)
    {
        var what = refused.Code is null ? Args.Number(refused.Status ?? 0) : $"{Args.Number(refused.Status ?? 0)} {refused.Code}";
        var said = refused.Message is null ? "" : $": {refused.Message.TrimEnd('.')}";
        var advice = refused.Status switch
        {
            403 => $"; an evaluation of '{slug}' is run by its owner or an admin (who need no pilot group or training), or by someone the gateway lets use it",
            401 => "; check the key (--token or PILOTAGE_TOKEN)",
            _ => "",
        };
        return $"the gateway refused the first case with {what}{said}{advice}; nothing else was sent and evaluation run {Args.Number(run)} is marked interrupted";
    }

    private void Record(CaseOutcome outcome, ResultPoster poster, EvalProgress progress)
    {
        lock (_lock) _outcomes.Add(outcome);
        poster.Add(outcome.ToInput());
        progress.Advance(outcome);
    }

    /// <summary>Sends one case, retrying 429, 5xx, timeouts and broken connections; never throws except on cancellation.</summary>
    private async Task<CaseOutcome> RunCaseAsync(HttpClient gateway, long run, TestCase testCase, CancellationToken ct)
    {
        var body = RequestBody(testCase);
        var header = $"run={run.ToString(CultureInfo.InvariantCulture)};case={testCase.Id};category={SpecEnum.ToName(testCase.Category)}";
        for (var attempt = 0; ; attempt++)
        {
            var last = attempt >= options.Retries;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(options.Timeout);
            TimeSpan? retryAfter = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
                {
                    Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") { CharSet = "utf-8" } } },
                };
                request.Headers.TryAddWithoutValidation(EvalRunRegistry.Header, header);
                using var response = await gateway.SendAsync(request, HttpCompletionOption.ResponseContentRead, deadline.Token);
                var status = (int)response.StatusCode;
                var bytes = await response.Content.ReadAsByteArrayAsync(deadline.Token);
                if (!last && Retryable(response.StatusCode))
                {
                    retryAfter = RetryAfter(response);
                }
                else
                {
                    var interaction = response.Headers.TryGetValues(InteractionHeader, out var values) ? values.FirstOrDefault() : null;
                    return Judge(testCase, status, bytes, interaction);
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                if (last) return Failed(testCase, $"no answer within {options.Timeout.TotalSeconds:0} s ({Attempts(attempt)}); raise --timeout or check the upstream");
            }
            catch (HttpRequestException e)
            {
                if (last) return Failed(testCase, $"the request to the gateway failed ({Attempts(attempt)}): {e.Message}");
            }
            await Task.Delay(retryAfter ?? Backoff(attempt), ct);
        }
    }

    private static string Attempts(int attempt) => attempt == 0 ? "1 attempt" : $"{attempt + 1} attempts";

    private static CaseOutcome Failed(TestCase testCase, string reason) =>
        new(testCase, new CaseVerdict(CaseVerdictKind.Error, reason), null, null, null, null);

    internal static bool Retryable(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests || (int)status >= 500;

    internal static TimeSpan Backoff(int attempt)
    {
        var delay = BaseDelay * Math.Pow(2, Math.Min(attempt, 16));
        if (delay > MaxDelay) delay = MaxDelay;
        // Jitter spreads the retries of parallel cases so they do not hit the gateway together.
        return delay * (0.75 + (Random.Shared.NextDouble() / 2));
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        TimeSpan? wait = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        if (wait is not { } value) return null;
        if (value < TimeSpan.Zero) return TimeSpan.Zero;
        return value > MaxRetryAfter ? MaxRetryAfter : value;
    }

    /// <summary>The verdict on the gateway's answer: the assistant's text, or the status and code of a refusal.</summary>
    internal static CaseOutcome Judge(TestCase testCase, int status, byte[] bytes, string? interaction)
    {
        string? text = null, code = null, message = null;
        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            if (status is >= 200 and < 300)
            {
                text = AnswerText(root);
            }
            else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                code = String(error, "code");
                message = String(error, "message");
            }
        }
        catch (JsonException)
        {
            if (status is >= 200 and < 300 and not 202)
            {
                return new CaseOutcome(testCase, new CaseVerdict(CaseVerdictKind.Error, $"the gateway answered {status} with something other than JSON"), interaction, status, null, null);
            }
        }
        catch (InvalidOperationException)
        {
            // GetString refuses an escape of half a surrogate pair ("\ud800"): the model's text cannot be judged.
            return new CaseOutcome(testCase, new CaseVerdict(CaseVerdictKind.Error,
                $"the gateway answered {status} with text that is not valid Unicode (a lone \\u surrogate escape)"), interaction, status, null, null);
        }
        var verdict = ExpectationChecker.Check(testCase.Expect, text, status, code);
        if (verdict.Kind == CaseVerdictKind.Error && message is not null)
        {
            verdict = verdict with { Reason = $"{verdict.Reason} ({message})" };
        }
        return new CaseOutcome(testCase, verdict, interaction, status, code, message);
    }

    /// <summary><c>choices[0].message.content</c>, as a string or as text parts; null when there is none (a tool call).</summary>
    private static string? AnswerText(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
        {
            return null;
        }
        var choice = choices[0];
        if (choice.ValueKind != JsonValueKind.Object || !choice.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object
            || !message.TryGetProperty("content", out var content))
        {
            return null;
        }
        return content.ValueKind switch
        {
            JsonValueKind.String => content.GetString(),
            JsonValueKind.Array => string.Concat(content.EnumerateArray().Select(part => String(part, "text") ?? "")),
            _ => null,
        };
    }

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private byte[] RequestBody(TestCase testCase)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("model", slug);
            w.WriteStartArray("messages");
            foreach (var message in testCase.Messages)
            {
                w.WriteStartObject();
                w.WriteString("role", message.Role);
                w.WriteString("content", message.Content);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private async Task<EvalRunView> FinishAsync(long run, string status)
    {
        // Not the caller's token: after Ctrl-C the run must still be closed with what was done.
        var raw = await client.SendJsonAsync(HttpMethod.Post, $"api/v1/evals/{run.ToString(CultureInfo.InvariantCulture)}/finish",
            new FinishEvalRequest(status), PilotsApiJsonContext.Default.FinishEvalRequest, CancellationToken.None);
        return raw.Deserialize(PilotsApiJsonContext.Default.EvalRunView)
            ?? throw new CliException($"the server sent an empty answer to finishing evaluation run {run}");
    }

    private void Summary(EvalRunView run)
    {
        List<CaseOutcome> outcomes;
        lock (_lock) outcomes = [.. _outcomes.OrderBy(o => o.Case.Line).ThenBy(o => o.Case.Id, StringComparer.Ordinal)];
        if (json)
        {
            cli.Output.Json(w =>
            {
                w.WriteStartObject();
                w.WritePropertyName("run");
                JsonSerializer.Serialize(w, run, PilotsApiJsonContext.Default.EvalRunView);
                w.WriteStartArray("results");
                foreach (var o in outcomes)
                {
                    w.WriteStartObject();
                    w.WriteString("caseId", o.Case.Id);
                    w.WriteString("category", o.Category);
                    w.WriteString("verdict", o.VerdictName);
                    w.WriteString("reason", o.Verdict.Reason);
                    w.WriteString("interactionId", o.InteractionId);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return;
        }
        foreach (var o in outcomes.Where(o => o.Verdict.Kind is CaseVerdictKind.Fail or CaseVerdictKind.Error))
        {
            cli.Output.Line($"{o.VerdictName.ToUpperInvariant()} {o.Case.Id} ({o.Category}, line {Args.Number(o.Case.Line)}): {Args.OneLine(o.Verdict.Reason)}");
        }
        if (outcomes.Any(o => o.Verdict.Kind is CaseVerdictKind.Fail or CaseVerdictKind.Error)) cli.Output.Line();
        var order = MetricCatalogue.Categories.ToList();
        var categories = run.Categories.OrderBy(c => order.IndexOf(c.Category) is var i and >= 0 ? i : int.MaxValue).ToList();
        var rows = categories.Select(c => Row(c.Category, c.Passed, c.Failed, c.NeedsHuman, c.Errors)).ToList();
        if (categories.Count > 1)
        {
            rows.Add(Row("all", categories.Sum(c => c.Passed), categories.Sum(c => c.Failed), categories.Sum(c => c.NeedsHuman), categories.Sum(c => c.Errors)));
        }
        cli.Output.Table(["CATEGORY", "PASS", "FAIL", "NEEDS HUMAN", "ERROR", "PASS RATE"], rows, "no case was recorded");
        cli.Output.Line();
        var needsHuman = categories.Sum(c => c.NeedsHuman);
        var line = $"evaluation run {Args.Number(run.Id)} {run.Status}: {Args.Number(run.Recorded)} of {Args.Number(set.Cases.Count)} cases recorded (test set {set.Name}, config v{Args.Number(run.ConfigVersion)})";
        if (needsHuman > 0) line += $"; {Args.Count(needsHuman, "answer")} to grade in 'pilotage reviews --system {slug}'";
        cli.Output.Line(line);
        if (ErroredLine(run) is { } errored) cli.Output.Line(errored);
    }

    /// <summary>Errored cases ran to no verdict: the summary says how many, and that they count in no pass rate.</summary>
    internal static string? ErroredLine(EvalRunView run)
    {
        var errors = run.Categories.Sum(c => c.Errors);
        if (errors == 0) return null;
        var ran = run.Recorded - errors;
        return ran == 0
            ? $"errors: all {Args.Count(errors, "case")} errored (upstream failure, timeout or refusal by a control): nothing was judged, no pass rate changed and no recommendation rests on this run; fix the cause and run it again"
            : $"errors: {Args.Count(errors, "case")} errored (upstream failure, timeout or refusal by a control) and count in no pass rate; the pass rates rest on the {Args.Count(ran, "case")} that ran: rerun to count the rest";
    }

    /// <summary>Pass rate over the judged cases (pass, fail), as pass_rate counts them: errored cases count apart, answers for a person to grade wait.</summary>
    private static IReadOnlyList<string> Row(string category, int passed, int failed, int needsHuman, int errors) =>
        [category, Args.Number(passed), Args.Number(failed), Args.Number(needsHuman), Args.Number(errors), EvalCommand.Percent(passed, passed + failed)];

    /// <summary>Posts verdicts in batches while the run goes on; a failure stops the run (through <c>onFailure</c>).</summary>
    private sealed class ResultPoster
    {
        private readonly ControlClient _client;
        private readonly long _run;
        private readonly Action _onFailure;
        private readonly Channel<EvalResultInput> _channel = Channel.CreateUnbounded<EvalResultInput>(new UnboundedChannelOptions { SingleReader = true });
        private readonly Task _pump;

        public ResultPoster(ControlClient client, long run, Action onFailure)
        {
            _client = client;
            _run = run;
            _onFailure = onFailure;
            _pump = Task.Run(PumpAsync);
        }

        public Exception? Failure { get; private set; }

        public int Posted { get; private set; }

        public void Add(EvalResultInput result) => _channel.Writer.TryWrite(result);

        public async Task CompleteAsync()
        {
            _channel.Writer.TryComplete();
            await _pump;
        }

        private async Task PumpAsync()
        {
            var reader = _channel.Reader;
            var batch = new List<EvalResultInput>(BatchSize);
            while (await reader.WaitToReadAsync())
            {
                while (batch.Count < BatchSize && reader.TryRead(out var first)) batch.Add(first);
                if (batch.Count < BatchSize && !reader.Completion.IsCompleted)
                {
                    // A moment for more verdicts to arrive, so a fast run posts a few large batches.
                    await Task.WhenAny(reader.Completion, Task.Delay(250));
                    while (batch.Count < BatchSize && reader.TryRead(out var more)) batch.Add(more);
                }
                if (Failure is null)
                {
                    try
                    {
                        await _client.SendJsonAsync(HttpMethod.Post, $"api/v1/evals/{_run.ToString(CultureInfo.InvariantCulture)}/results",
                            new EvalResultsRequest(batch.ToList()), PilotsApiJsonContext.Default.EvalResultsRequest, CancellationToken.None);
                        Posted += batch.Count;
                    }
                    catch (Exception e) when (e is CliException or HttpRequestException or JsonException)
                    {
                        Failure = e;
                        _onFailure();
                    }
                }
                batch.Clear();
            }
        }
    }
}

/// <summary>
/// Progress while cases run: a Spectre progress bar on a terminal, a plain line at every tenth of the
/// cases otherwise, nothing with --json (stdout is the JSON document).
/// </summary>
internal sealed class EvalProgress(CliContext cli, bool json, string slug, int total)
{
    private readonly Lock _lock = new();
    private int _done, _passed, _failed, _human, _errors, _lastTenth;
    private ProgressTask? _bar;

    public async Task RunAsync(Func<Task> work)
    {
        if (json || !cli.Console.Interactive)
        {
            await work();
            return;
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(cli.Console.Out),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Yes,
        });
        await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                lock (_lock) _bar = context.AddTask(Describe(), maxValue: total);
                await work();
            });
    }

    public void Advance(CaseOutcome outcome)
    {
        string? line = null;
        lock (_lock)
        {
            _done++;
            switch (outcome.Verdict.Kind)
            {
                case CaseVerdictKind.Pass: _passed++; break;
                case CaseVerdictKind.Fail: _failed++; break;
                case CaseVerdictKind.NeedsHuman: _human++; break;
                default: _errors++; break;
            }
            if (_bar is not null)
            {
                _bar.Description = Describe();
                _bar.Increment(1);
            }
            else if (!json)
            {
                var tenth = total == 0 ? 10 : _done * 10 / total;
                if (tenth > _lastTenth || _done == total)
                {
                    _lastTenth = tenth;
                    line = $"{slug}: {Args.Number(_done)}/{Args.Number(total)} cases (pass {Args.Number(_passed)}, fail {Args.Number(_failed)}, needs human {Args.Number(_human)}, error {Args.Number(_errors)})";
                }
            }
            if (line is not null) cli.Output.Line(line);
        }
    }

    private string Describe() =>
        Markup.Escape($"{slug}: pass {_passed.ToString(CultureInfo.InvariantCulture)}, fail {_failed.ToString(CultureInfo.InvariantCulture)}, needs human {_human.ToString(CultureInfo.InvariantCulture)}, error {_errors.ToString(CultureInfo.InvariantCulture)}");
}
