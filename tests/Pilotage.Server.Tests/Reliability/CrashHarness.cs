using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Reliability;

/// <summary>What one crash run found; written to artifacts and to docs/reliability.md by hand.</summary>
public sealed record CrashReport(
    string Store,
    int Rounds,
    int Kills,
    int AnswersReceived,
    int ApprovalsHeld,
    int UsersCreated,
    int RecordsChecked,
    int RecordsLost,
    int Duplicates,
    int Incomplete,
    int ApprovalsNotPending,
    int UsersLost,
    int OrphanApprovals,
    bool AuditChainOk,
    long AuditEntries,
    double Seconds)
{
    public bool Clean => RecordsLost == 0 && Duplicates == 0 && Incomplete == 0 && ApprovalsNotPending == 0 && UsersLost == 0 && OrphanApprovals == 0 && AuditChainOk;
}

/// <summary>
/// Runs <c>pilotage serve</c> as a separate process under load, kills it with SIGKILL at a random
/// moment, restarts it on the same database and port, and after the rounds checks that everything a
/// client was told happened is in the store exactly once: every answer received (200 with its body,
/// a stream with its <c>[DONE]</c>) has its interaction record, every 202 is still a pending approval,
/// every user the admin API confirmed exists, and the audit chain verifies.
/// </summary>
public sealed class CrashHarness(string storeName, string database, Func<DbConnection> connect, Xunit.Abstractions.ITestOutputHelper output)
{
    public const string ServeSystem = "crash-serve";
    public const string HoldSystem = "crash-hold";
    public const string Group = "crash-pilot";
    private const int Clients = 8;

    /// <summary><c>PILOTAGE_CRASH_ROUNDS</c>: kills per store (default 20, the minimum).</summary>
    public static int RoundsFromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable("PILOTAGE_CRASH_ROUNDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 20;

    /// <summary><c>PILOTAGE_CRASH_SEED</c>: the seed of the kill moments and the load mix (default 8).</summary>
    public static int SeedFromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable("PILOTAGE_CRASH_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 8;

    private readonly ConcurrentDictionary<string, bool> _answered = new();
    private readonly ConcurrentDictionary<string, bool> _held = new();
    private readonly ConcurrentDictionary<string, bool> _users = new();

    public async Task<CrashReport> RunAsync(int rounds, int seed)
    {
        var clock = Stopwatch.StartNew();
        var random = new Random(seed);
        await using var upstream = await FakeUpstream.StartAsync();
        var port = ServerProcess.FreePort();
        string memberKey;
        await using (var first = await ServerProcess.StartAsync(database, port))
        {
            memberKey = await SetUpAsync(first, upstream.BaseUrl);
            await first.StopAsync();
        }

        var kills = 0;
        var starting = TimeSpan.Zero;
        for (var round = 0; round < rounds; round++)
        {
            var started = Stopwatch.StartNew();
            await using var server = await ServerProcess.StartAsync(database, port);
            starting += started.Elapsed;
            using var stop = new CancellationTokenSource();
            var member = server.ClientFor(memberKey);
            var before = _answered.Count;
            var load = Enumerable.Range(0, Clients).Select(n => ClientLoopAsync(member, n, round, stop.Token)).ToList();
            load.Add(AdminLoopAsync(server.Admin, round, stop.Token));
            // "Into the load" counts from the first answer: a fresh process spends its first moments compiling,
            // and a kill then would only ever hit requests that had not reached the store.
            var warm = Stopwatch.StartNew();
            while (_answered.Count == before && warm.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(5);
            await Task.Delay(random.Next(100, 601));
            await server.KillAsync();
            kills++;
            await stop.CancelAsync();
            await Task.WhenAll(load);
        }

        output.WriteLine($"{storeName}: {rounds} rounds, {starting.TotalSeconds:0.0} s of it starting the server");
        await using var last = await ServerProcess.StartAsync(database, port);
        var report = await VerifyAsync(last, memberKey, rounds, kills, clock);
        output.WriteLine(JsonSerializer.Serialize(report));
        await WriteArtifactAsync(report);
        return report;
    }

    private static async Task<string> SetUpAsync(ServerProcess server, string upstreamUrl)
    {
        await Ok(server.Admin.PostAsJsonAsync("/api/v1/users", new { email = "owner@example.org", role = "owner" }), "owner");
        await Ok(server.Admin.PostAsJsonAsync("/api/v1/users", new { email = "rita@example.org", role = "reviewer", groups = new[] { "crash-reviewers" } }), "reviewer");
        await Ok(server.Admin.PostAsJsonAsync("/api/v1/users", new { email = "mia@example.org", role = "member", groups = new[] { Group } }), "member");
        using var key = await server.Admin.PostAsJsonAsync("/api/v1/keys", new { user = "mia@example.org" });
        await EnsureOk(key, "key");
        var memberKey = JsonDocument.Parse(await key.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
        foreach (var (name, mode) in new[] { (ServeSystem, "full"), (HoldSystem, "approval") })
        {
            using var spec = new StringContent(Spec(name, upstreamUrl, mode), Encoding.UTF8, "application/yaml");
            await Ok(server.Admin.PostAsync("/api/v1/systems/apply", spec), "apply " + name);
            await Ok(server.Admin.PostAsJsonAsync($"/api/v1/systems/{name}/decisions", new { outcome = "pilot", reason = "crash test", @override = true }), "pilot " + name);
        }
        return memberKey;
    }

    public static string Spec(string name, string upstream, string mode, string extra = "") => $"""
        apiVersion: pilotage/v1
        kind: AiSystem
        metadata:
          name: {name}
        spec:
          owner: owner@example.org
          purpose: Crash-safety test system
          risk: low
          upstream:
            baseUrl: {upstream}
            model: fake-model
            pricePer1kInput: 0.5
            pricePer1kOutput: 1.5
          review:
            reviewers: [crash-reviewers]
          pilot:
            group: {Group}
            mode: {mode}
            ends: 2099-12-31
        {extra}
        """;

    /// <summary>One client: chat completions back to back, a quarter to the approval system, half of the rest streamed.</summary>
    private async Task ClientLoopAsync(HttpClient client, int n, int round, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var hold = (i + n) % 4 == 3;
            var stream = !hold && (i + n) % 2 == 0;
            try
            {
                var (id, outcome, _) = await ChatAsync(client, hold ? HoldSystem : ServeSystem, stream, $"round {round} client {n} request {i}", stop);
                if (outcome == ChatOutcome.Answered) _answered.TryAdd(id!, stream);
                else if (outcome == ChatOutcome.Held) _held.TryAdd(id!, true);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
            {
                // The server was killed mid-request: nothing was promised.
                await Task.Yield();
            }
        }
    }

    public enum ChatOutcome { Answered, Held, Refused }

    /// <summary>Sends one chat completion and reads the whole answer; "answered" only with the complete body or <c>[DONE]</c>.</summary>
    public static async Task<(string? Id, ChatOutcome Outcome, int Status)> ChatAsync(HttpClient client, string system, bool stream, string content, CancellationToken ct)
    {
        var body = new { model = system, stream, messages = new object[] { new { role = "user", content } } };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(body) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var id = response.Headers.TryGetValues("x-pilotage-interaction-id", out var ids) ? ids.FirstOrDefault() : null;
        var text = await response.Content.ReadAsStringAsync(ct);
        var status = (int)response.StatusCode;
        if (id is null) return (null, ChatOutcome.Refused, status);
        if (response.StatusCode == HttpStatusCode.Accepted && text.Contains("\"pending\"", StringComparison.Ordinal)) return (id, ChatOutcome.Held, status);
        if (response.StatusCode != HttpStatusCode.OK) return (id, ChatOutcome.Refused, status);
        // A stream's errors come in-band after the 200: only its [DONE] means the answer was released.
        if (stream) return text.Contains("data: [DONE]", StringComparison.Ordinal) ? (id, ChatOutcome.Answered, status) : (id, ChatOutcome.Refused, 503);
        // A complete JSON answer: a cut-off body would not parse.
        try
        {
            using var json = JsonDocument.Parse(text);
            return (id, json.RootElement.TryGetProperty("choices", out _) ? ChatOutcome.Answered : ChatOutcome.Refused, status);
        }
        catch (JsonException)
        {
            return (id, ChatOutcome.Refused, status);
        }
    }

    /// <summary>Admin writes during the load: each creates a user and an audit entry, so the chain is under the knife too.</summary>
    private async Task AdminLoopAsync(HttpClient admin, int round, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var email = $"crash-{round}-{i}@example.org";
            try
            {
                using var response = await admin.PostAsJsonAsync("/api/v1/users", new { email, role = "member" }, stop);
                if (response.StatusCode == HttpStatusCode.Created) _users.TryAdd(email, true);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
            {
                await Task.Yield();
            }
        }
    }

    private async Task<CrashReport> VerifyAsync(ServerProcess server, string memberKey, int rounds, int kills, Stopwatch clock)
    {
        var rows = new Dictionary<string, (string System, string Outcome, bool Complete)>(StringComparer.Ordinal);
        var duplicates = 0;
        var orphanApprovals = 0;
        await using (var connection = connect())
        {
            await connection.OpenAsync();
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT id, system, outcome, key_id, endpoint, mode, response_content, request_content, tokens_in, tokens_out, created_at FROM interactions";
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    var id = reader.GetString(0);
                    var complete = !reader.IsDBNull(3) && !reader.IsDBNull(4) && !reader.IsDBNull(5)
                        && !reader.IsDBNull(6) && reader.GetString(6).Length > 0 && !reader.IsDBNull(7)
                        && Convert.ToInt64(reader.GetValue(8), CultureInfo.InvariantCulture) > 0
                        && Convert.ToInt64(reader.GetValue(9), CultureInfo.InvariantCulture) > 0
                        && !reader.IsDBNull(10);
                    if (!rows.TryAdd(id, (reader.GetString(1), reader.GetString(2), complete))) duplicates++;
                }
            }
            await using (var count = connection.CreateCommand())
            {
                count.CommandText = "SELECT COUNT(*) - COUNT(DISTINCT id) FROM interactions";
                duplicates += Convert.ToInt32(await count.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
            }
            // Half-written: a held answer whose interaction record never committed would sit in the
            // reviewers' queue as if a client were waiting for it.
            await using (var orphans = connection.CreateCommand())
            {
                orphans.CommandText = "SELECT COUNT(*) FROM approvals a WHERE NOT EXISTS (SELECT 1 FROM interactions i WHERE i.id = a.interaction_id)";
                orphanApprovals = Convert.ToInt32(await orphans.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
            }
        }

        var lost = new List<string>();
        var incomplete = new List<string>();
        foreach (var (id, _) in _answered)
        {
            if (!rows.TryGetValue(id, out var row) || row.System != ServeSystem || row.Outcome != "served") lost.Add(id);
            else if (!row.Complete) incomplete.Add(id);
        }
        foreach (var (id, _) in _held)
        {
            if (!rows.TryGetValue(id, out var row) || row.System != HoldSystem || row.Outcome != "held") lost.Add(id);
            else if (!row.Complete) incomplete.Add(id);
        }

        // Held answers through the API the client uses: still pending after every restart.
        var member = server.ClientFor(memberKey);
        var notPending = new List<string>();
        foreach (var id in _held.Keys)
        {
            using var response = await member.GetAsync($"/v1/interactions/{id}");
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.Accepted && response.StatusCode != HttpStatusCode.OK
                || !text.Contains("\"pending\"", StringComparison.Ordinal))
            {
                notPending.Add($"{id}: {(int)response.StatusCode} {text}");
            }
        }

        var users = await server.Admin.GetStringAsync("/api/v1/users");
        var usersLost = _users.Keys.Count(u => !users.Contains(u, StringComparison.Ordinal));

        using var verify = JsonDocument.Parse(await server.Admin.GetStringAsync("/api/v1/audit/verify"));
        var chainOk = verify.RootElement.GetProperty("ok").GetBoolean();
        var entries = verify.RootElement.GetProperty("entries").GetInt64();

        foreach (var id in lost.Take(10)) output.WriteLine($"LOST {id}");
        foreach (var id in incomplete.Take(10)) output.WriteLine($"INCOMPLETE {id}");
        foreach (var line in notPending.Take(10)) output.WriteLine($"NOT PENDING {line}");
        if (!chainOk) output.WriteLine($"AUDIT {verify.RootElement}");

        return new CrashReport(storeName, rounds, kills, _answered.Count, _held.Count, _users.Count,
            _answered.Count + _held.Count + _users.Count, lost.Count + usersLost, duplicates, incomplete.Count, notPending.Count,
            usersLost, orphanApprovals, chainOk, entries, Math.Round(clock.Elapsed.TotalSeconds, 1));
    }

    private static async Task WriteArtifactAsync(CrashReport report)
    {
        var artifacts = Environment.GetEnvironmentVariable("PILOTAGE_ARTIFACTS");
        if (string.IsNullOrEmpty(artifacts)) return;
        var folder = Path.Combine(artifacts, "reliability");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, $"crash-{report.Store}.json"), JsonSerializer.Serialize(report));
    }

    private static async Task Ok(Task<HttpResponseMessage> call, string what)
    {
        using var response = await call;
        await EnsureOk(response, what);
    }

    private static async Task EnsureOk(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
