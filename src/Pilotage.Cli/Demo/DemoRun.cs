using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Pilotage.Cli.Client;
using Pilotage.Server.Hosting;
using Pilotage.Server.People;
using Pilotage.Server.Reviews;
using Pilotage.Server.Keys;
using Pilotage.Server.Systems;

namespace Pilotage.Cli.Demo;

/// <summary>
/// One run of <c>pilotage demo</c>. Everything goes through Pilotage's real surfaces, exactly as a
/// team would use them: the spec is applied and the pilot decided through the control API, the
/// simulated support agents call <c>/v1/chat/completions</c> with their own keys like any OpenAI
/// client, the simulated reviewers record reviews through the reviews API, and the pause rule fires
/// from the server's own engine. Only the people and the model are simulated.
/// </summary>
internal sealed class DemoRun(CliContext cli, DemoOptions options, TimeProvider time)
{
    /// <summary>How long the pause rule may take to act after the review that crosses it (it runs in the background).</summary>
    private static readonly TimeSpan RuleWait = TimeSpan.FromSeconds(15);
    private const int WaveSize = 30;

    private readonly Dictionary<string, string> _keys = new(StringComparer.Ordinal);

    public async Task<int> RunAsync(CancellationToken ct)
    {
        var display = DemoDisplay.Create(cli);
        display.Title();

        await using var simulator = options.Upstream is null
            ? await SimulatedModel.StartAsync(options.Fast ? TimeSpan.Zero : TimeSpan.FromMilliseconds(80), options.Fast ? TimeSpan.Zero : TimeSpan.FromMilliseconds(400), ct)
            : null;
        var upstreamUrl = simulator?.BaseUrl ?? options.Upstream!.AbsoluteUri.TrimEnd('/');
        var upstreamModel = simulator is null ? options.Model : SimulatedModel.ModelId;

        var adminToken = Pilotage.Core.Access.ApiKeyToken.Generate().Token;
        var database = Path.Combine(options.Folder, "pilotage.db");
        var app = PilotageApp.Build(new PilotageServerOptions
        {
            Database = database,
            Urls = $"http://127.0.0.1:{options.Port.ToString(CultureInfo.InvariantCulture)}",
            AdminToken = adminToken,
            // The demo's admin token is printed, not saved: the user's credentials file stays untouched.
            CredentialsPath = "",
            Announce = TextWriter.Null,
            // The server's own logs would interleave with the story; errors still show.
            LogLevel = LogLevel.Error,
        });
        await using (app)
        {
            // Stopped before it is disposed, so background services end as on a normal shutdown
            // (disposal alone cancels them as if they had failed, and the host logs a stack trace).
            await using var stopFirst = new StopOnDispose(app);
            string address;
            try
            {
                address = (await PilotageApp.StartAsync(app, ct)).TrimEnd('/');
            }
            catch (IOException e)
            {
                throw new CliException($"the demo server could not start: {e.Message}{(options.Port != 0 ? "; try another --port or leave it out" : "")}");
            }
            display.Done($"Pilotage is running at {address} on SQLite ({database})");
            display.Done(simulator is null
                ? $"upstream: {upstreamUrl} model {upstreamModel} (a real model, key from $OPENAI_API_KEY)"
                : $"upstream: a SIMULATED model at {upstreamUrl} ('{SimulatedModel.ModelId}', every answer starts with {SimulatedModel.Label}); deterministic, some answers wrong, some unsafe");

            using var admin = new ControlClient(new Uri(address), adminToken);
            await SetUpAsync(admin, display, upstreamUrl, upstreamModel, ct);

            using var gateway = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 8 }) { BaseAddress = new Uri(address + "/"), Timeout = TimeSpan.FromSeconds(120) };
            var pilot = new PilotTraffic(gateway, address, _keys);
            await display.RunPilotAsync(options.Tickets, WaveSize, async progress =>
            {
                await pilot.RunOrdinaryAsync(DemoScript.PilotTickets(options.Tickets), progress, ct);
                progress.Say("a wave of tickets about the new X200 headphones arrives: the model knows nothing about them");
                await pilot.RunWaveAsync(DemoScript.WaveTickets(options.Tickets + 1, WaveSize), progress, admin, RuleWait, ct);
            });

            var outcome = await SummariseAsync(admin, pilot, display, ct);
            if (!options.Serve)
            {
                display.Line("");
                display.Line("--no-serve: stopping. The database and the report stay in " + options.Folder);
                return ExitCodes.Ok;
            }
            display.Serving(address, adminToken, _keys[DemoScript.Agents[0]], DemoScript.Agents[0], outcome.Paused);
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C: the way to stop the demo.
            }
            display.Line("stopped; the database and the report stay in " + options.Folder);
            return ExitCodes.Ok;
        }
    }

    private async Task SetUpAsync(ControlClient admin, DemoDisplay display, string upstreamUrl, string model, CancellationToken ct)
    {
        // The spec: the example, pointed at this run's model; the pilot ends four weeks from today.
        var ends = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime).AddDays(28);
        var yaml = DemoScript.Spec(upstreamUrl, model, options.Upstream is null ? null : "OPENAI_API_KEY", ends);
        var specPath = Path.Combine(options.Folder, DemoScript.System + ".yaml");
        await File.WriteAllTextAsync(specPath, yaml, ct);

        await CreateUserAsync(admin, DemoScript.Owner, "owner", [], ct);
        foreach (var reviewer in DemoScript.Reviewers) await CreateUserAsync(admin, reviewer, "reviewer", [DemoScript.ReviewerGroup], ct);
        foreach (var agent in DemoScript.Agents) await CreateUserAsync(admin, agent, "member", [DemoScript.PilotGroup], ct);
        display.Done($"people: owner {DemoScript.Owner}, {DemoScript.Reviewers.Length} reviewers ({DemoScript.ReviewerGroup}), {DemoScript.Agents.Length} support agents ({DemoScript.PilotGroup}), each with their own API key");

        using var owner = new ControlClient(admin.Server, _keys[DemoScript.Owner]);
        var applied = await owner.SendJsonAsync(HttpMethod.Post, "api/v1/systems/apply",
            new ApplyRequest([new SpecDocument(specPath, yaml)]), SystemsApiJsonContext.Default.ApplyRequest, ct);
        var version = applied.GetProperty("results")[0].GetProperty("configVersion").GetInt32();
        display.Done($"pilotage apply -f {specPath}: {DemoScript.System} declared (config v{version}), stage proposed: it does not serve yet");

        // Training first: the spec requires each user to acknowledge it before the gateway serves them.
        foreach (var agent in DemoScript.Agents)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{admin.ServerText}/v1/training/{DemoScript.System}/acknowledge");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _keys[agent]);
            using var http = new HttpClient();
            using var response = await http.SendAsync(request, ct);
            if (!response.IsSuccessStatusCode) throw new CliException($"training acknowledgement for {agent} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
        display.Done($"the agents acknowledged the required training (\"{DemoScript.TrainingText}\")");

        await owner.SendJsonAsync(HttpMethod.Post, $"api/v1/systems/{DemoScript.System}/decisions", w =>
        {
            w.WriteStartObject();
            w.WriteString("outcome", "pilot");
            w.WriteString("reason", "four-week pilot with the support team: are the drafts good enough, and do they save time?");
            w.WriteEndObject();
        }, ct);
        display.Done($"pilotage decide {DemoScript.System} pilot: serving {DemoScript.PilotGroup} in draft mode until {ends:yyyy-MM-dd}; pause rule: rejection_rate over the last {DemoScript.RuleWindow} reviews above {DemoScript.RuleThreshold.ToString(CultureInfo.InvariantCulture)}");
    }

    private async Task CreateUserAsync(ControlClient admin, string email, string role, IReadOnlyList<string> groups, CancellationToken ct)
    {
        await admin.SendJsonAsync(HttpMethod.Post, "api/v1/users", new CreateUserRequest(email, role, groups, null), PeopleApiJsonContext.Default.CreateUserRequest, ct);
        var key = await admin.SendJsonAsync(HttpMethod.Post, "api/v1/keys", new CreateKeyRequest(email, "demo", null), KeysApiJsonContext.Default.CreateKeyRequest, ct);
        _keys[email] = key.GetProperty("key").GetString() ?? throw new CliException($"the server returned no key for {email}");
    }

    private sealed record Outcome(bool Paused);

    private async Task<Outcome> SummariseAsync(ControlClient admin, PilotTraffic pilot, DemoDisplay display, CancellationToken ct)
    {
        var report = await admin.GetAsync($"api/v1/systems/{DemoScript.System}/report?format=json", ct);
        var path = Path.Combine(options.Folder, DemoScript.System + "-report.html");
        using (var response = await admin.OpenStreamAsync($"api/v1/systems/{DemoScript.System}/report?format=html", ct))
        {
            await using var file = File.Create(path);
            await response.Content.CopyToAsync(file, ct);
        }
        var recommendation = report.GetProperty("criteria").GetProperty("recommendation");
        var kind = recommendation.GetProperty("kind").GetString() ?? "?";
        var summary = recommendation.GetProperty("summary").GetString() ?? "";
        var system = report.GetProperty("system");
        var paused = system.TryGetProperty("pause", out var pause) && pause.ValueKind == JsonValueKind.Object;

        display.Line("");
        display.Heading("What happened");
        display.Fact("traffic", $"{pilot.Served} drafts served through the gateway, {pilot.Blocked} requests blocked by the data boundary (card numbers), {pilot.Redacted} with e-mail addresses redacted before the model saw them");
        display.Fact("reviews", $"{pilot.Count("accepted")} accepted, {pilot.Count("edited")} edited, {pilot.Count("rejected")} rejected, {pilot.Count("escalated")} escalated");
        if (paused)
        {
            // The reason reads "pause rule 1 fired: rejection_rate 0.45 over the last 20 reviews is above 0.4".
            display.Fact("pause rule", $"FIRED — {pause.GetProperty("reason").GetString()}; {DemoScript.System} is paused");
            display.Fact("gateway", pilot.Refusal is { } refusal
                ? $"the next request was refused: {refusal}"
                : "the system is paused: the next request is refused");
        }
        else
        {
            display.Fact("pause rule", "did not fire: the reviewers did not reject enough of the last answers" + (options.Upstream is null ? "" : " (with a real model the streak depends on its answers)"));
        }
        display.Fact("recommendation", summary.StartsWith(kind, StringComparison.Ordinal) ? summary : $"{kind}: {summary}");
        display.Fact("report", path);
        return new Outcome(paused);
    }
}

/// <summary>
/// The simulated support team: agents ask through the gateway with their own keys, reviewers review
/// each draft. Ordinary tickets run a few at a time, like a team; the wave runs one by one so the
/// moment the rule stops the system is visible.
/// </summary>
internal sealed class PilotTraffic(HttpClient gateway, string address, IReadOnlyDictionary<string, string> keys)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _reviews = new(StringComparer.Ordinal);
    private int _served, _blocked, _redacted;

    public int Served => _served;
    public int Blocked => _blocked;
    public int Redacted => _redacted;
    public string? Refusal { get; private set; }

    public int Count(string outcome)
    {
        lock (_lock) return _reviews.GetValueOrDefault(outcome);
    }

    public async Task RunOrdinaryAsync(IReadOnlyList<DemoTicket> tickets, IPilotProgress progress, CancellationToken ct)
    {
        await Parallel.ForEachAsync(tickets, new ParallelOptions { MaxDegreeOfParallelism = 3, CancellationToken = ct }, async (ticket, token) =>
        {
            await HandleAsync(ticket, progress, token);
        });
    }

    public async Task RunWaveAsync(IReadOnlyList<DemoTicket> tickets, IPilotProgress progress, ControlClient admin, TimeSpan ruleWait, CancellationToken ct)
    {
        foreach (var ticket in tickets)
        {
            if (!await HandleAsync(ticket, progress, ct)) return;
        }
        // Every ticket was served: give the rule engine (a background loop) a moment, then try once more.
        var deadline = DateTime.UtcNow + ruleWait;
        while (DateTime.UtcNow < deadline)
        {
            var system = await admin.GetAsync($"api/v1/systems/{DemoScript.System}", ct);
            if (system.GetProperty("system").GetProperty("phase").GetString() == "paused")
            {
                await HandleAsync(tickets[^1] with { Number = tickets[^1].Number + 1 }, progress, ct);
                return;
            }
            await Task.Delay(200, ct);
        }
    }

    /// <summary>One ticket: ask, then review. False once the gateway refuses because the system is paused.</summary>
    private async Task<bool> HandleAsync(DemoTicket ticket, IPilotProgress progress, CancellationToken ct)
    {
        var agentKey = keys[ticket.Agent];
        var body = JsonSerializer.Serialize(new ChatBody(DemoScript.System, [new ChatMessage("user", ticket.Prompt)], ticket.Stream ? true : null), DemoJsonContext.Default.ChatBody);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", agentKey);
        using var response = await gateway.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
        {
            var error = await ErrorAsync(response, ct);
            if (response.StatusCode == (HttpStatusCode)422)
            {
                Interlocked.Increment(ref _blocked);
                progress.Asked(ticket, "blocked");
                progress.Say($"ticket {ticket.Number}: blocked by the data boundary, nothing sent to the model ({error.Code})");
                return true;
            }
            if (response.StatusCode == (HttpStatusCode)423)
            {
                Refusal = $"{(int)response.StatusCode} {error.Code}: {error.Message}";
                progress.Asked(ticket, "refused");
                progress.Refused(ticket, $"{(int)response.StatusCode} {error.Code}", error.Message);
                return false;
            }
            throw new CliException($"the gateway answered ticket {ticket.Number.ToString(CultureInfo.InvariantCulture)} with {(int)response.StatusCode} {error.Code}: {error.Message}");
        }
        var id = response.Headers.TryGetValues("x-pilotage-interaction-id", out var ids) ? ids.First() : throw new CliException("the gateway's answer has no x-pilotage-interaction-id header");
        var answer = ticket.Stream ? await ReadStreamAsync(response, ct) : await ReadCompletionAsync(response, ct);
        Interlocked.Increment(ref _served);
        if (ticket.Prompt.Contains("@mail.example", StringComparison.Ordinal)) Interlocked.Increment(ref _redacted);
        progress.Asked(ticket, "served");

        var reviewerIndex = ticket.Number % DemoScript.Reviewers.Length;
        var verdict = DemoScript.Review(ticket, answer, reviewerIndex);
        using var reviewer = new ControlClient(new Uri(address), keys[DemoScript.Reviewers[reviewerIndex]]);
        await reviewer.SendJsonAsync(HttpMethod.Post, $"api/v1/interactions/{Uri.EscapeDataString(id)}/review",
            new ReviewRequest(verdict.Outcome, verdict.FinalText, verdict.Seconds, null, verdict.Reason, verdict.Tags, verdict.EscalatedTo),
            ReviewsApiJsonContext.Default.ReviewRequest, ct);
        lock (_lock) _reviews[verdict.Outcome] = _reviews.GetValueOrDefault(verdict.Outcome) + 1;
        progress.Reviewed(ticket, verdict);
        return true;
    }

    private static async Task<string> ReadCompletionAsync(HttpResponseMessage response, CancellationToken ct)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(ct));
        return document.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "";
    }

    /// <summary>Server-sent events as any OpenAI client reads them: the deltas' content, up to [DONE].</summary>
    private static async Task<string> ReadStreamAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = new StringBuilder();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            var data = line["data: ".Length..];
            if (data == "[DONE]") break;
            using var chunk = JsonDocument.Parse(data);
            if (chunk.RootElement.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
                && choices[0].TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            {
                text.Append(content.GetString());
            }
        }
        return text.ToString();
    }

    private static async Task<(string Code, string Message)> ErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var raw = await response.Content.ReadAsStringAsync(ct);
        try
        {
            using var document = JsonDocument.Parse(raw);
            var error = document.RootElement.GetProperty("error");
            return (error.TryGetProperty("code", out var code) ? code.GetString() ?? "" : "", error.GetProperty("message").GetString() ?? raw);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return ("", raw);
        }
    }
}

/// <summary>Stops a started host gracefully when disposed; a host that never started is left alone.</summary>
internal sealed class StopOnDispose(Microsoft.AspNetCore.Builder.WebApplication app) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        try
        {
            await app.StopAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            // Never started, or already stopped: nothing to stop.
        }
    }
}
