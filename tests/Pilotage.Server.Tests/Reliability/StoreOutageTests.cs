using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using Pilotage.Testing;
using Xunit.Abstractions;

namespace Pilotage.Server.Tests.Reliability;

/// <summary>
/// Issue 8 item 2: PostgreSQL stopped (<c>pg_ctl stop -m immediate</c>) under load. The <c>spool</c> system
/// keeps answering, the <c>fail_closed</c> one answers 503, <c>/readyz</c> says so; once PostgreSQL is back
/// the spool is replayed and every answer any client received has exactly one record. Runs on a
/// PostgreSQL cluster of its own, never the shared one.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(ReliabilityCollection.Name)]
public sealed class StoreOutageTests(ITestOutputHelper output)
{
    private const string Spooling = "outage-spool";
    private const string Closed = "outage-closed";

    private readonly ConcurrentDictionary<string, string> _received = new();
    private readonly ConcurrentBag<(string System, int Status, long At)> _results = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    [OwnPostgresFact]
    public async Task Stopping_PostgreSQL_mid_load_spools_for_spool_systems_refuses_fail_closed_ones_and_replays_exactly_once()
    {
        await using var cluster = await DisposablePostgresCluster.StartAsync();
        await using (var admin = new NpgsqlConnection(cluster.AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE DATABASE pilotage", admin);
            await create.ExecuteNonQueryAsync();
        }
        var database = cluster.ConnectionString("pilotage");
        using var spoolFolder = new TempDirectory("pilotage-spool");
        var environment = new Dictionary<string, string> { ["PILOTAGE_SPOOL_DIR"] = spoolFolder.Path };
        await using var upstream = await FakeUpstream.StartAsync();
        var port = ServerProcess.FreePort();
        var server = await ServerProcess.StartAsync(database, port, environment);
        try
        {
            var key = await SetUpAsync(server, upstream.BaseUrl);
            var member = server.ClientFor(key);
            var probe = server.ClientFor(null);
            using var stop = new CancellationTokenSource();
            var load = Enumerable.Range(0, 6).Select(n => LoadAsync(member, n, stop.Token)).ToList();

            // 1. Normal service.
            await WaitUntilAsync(() => _received.Values.Count(s => s == Closed) >= 5 && _received.Values.Count(s => s == Spooling) >= 5, "answers before the outage");

            // 2. The database goes away under the load.
            await cluster.StopImmediateAsync();
            var readiness = await WaitForReadinessAsync(probe, r => r.StoreState == "unreachable" && r.Spooled > 0);
            var outageFrom = _clock.ElapsedMilliseconds + 200;
            var spooledBefore = _received.Values.Count(s => s == Spooling);
            await WaitUntilAsync(() => _received.Values.Count(s => s == Spooling) >= spooledBefore + 20 && _clock.ElapsedMilliseconds > outageFrom + 1500, "spool answers during the outage");
            readiness = await ReadinessAsync(probe);
            var outageTo = _clock.ElapsedMilliseconds;
            Assert.Equal(HttpStatusCode.OK, readiness.Code);
            Assert.Equal("degraded", readiness.Status);
            Assert.Equal("unreachable", readiness.StoreState);
            Assert.True(readiness.Spooled > 0, $"nothing spooled: {readiness}");
            var spoolFile = Directory.GetFiles(spoolFolder.Path).Single();
            Assert.True(new FileInfo(spoolFile).Length > 0);

            // 3. A second fault while records wait in the spool: SIGKILL the server itself.
            stop.Cancel();
            await Task.WhenAll(load);
            var spooledAtKill = (await ReadinessAsync(probe)).Spooled;
            await server.KillAsync();
            await server.DisposeAsync();

            // 4. The database comes back; the restarted server replays the spool before anything else.
            await cluster.StartServerAsync();
            server = await ServerProcess.StartAsync(database, port, environment);
            member = server.ClientFor(key);
            probe = server.ClientFor(null);
            using var stop2 = new CancellationTokenSource();
            var after = Enumerable.Range(0, 4).Select(n => LoadAsync(member, n, stop2.Token)).ToList();
            var receivedBefore = _received.Count;
            await WaitUntilAsync(() => _received.Count >= receivedBefore + 20, "answers after the outage");
            await stop2.CancelAsync();
            await Task.WhenAll(after);
            var ready = await WaitForReadinessAsync(probe, r => r.Status == "ready");
            Assert.Equal(0, ready.Spooled);
            Assert.Equal(0, new FileInfo(spoolFile).Length);

            // During the confirmed outage: the spool system answered, the fail-closed one only refused (503).
            var during = _results.Where(r => r.At >= outageFrom && r.At <= outageTo).ToList();
            output.WriteLine("during the outage: " + string.Join(", ", during.GroupBy(r => (r.System, r.Status)).Select(g => $"{g.Key.System} {g.Key.Status}: {g.Count()}")));
            Assert.Contains(during, r => r.System == Spooling && r.Status == 200);
            Assert.DoesNotContain(during, r => r.System == Closed && r.Status == 200);
            Assert.Contains(during, r => r.System == Closed && r.Status == 503);

            var (lost, duplicates, total) = await CheckStoreAsync(database);
            var report = new
            {
                test = "store outage (PostgreSQL stopped mid-load, then server SIGKILLed while spooling)",
                faults = 2,
                received = _received.Count,
                receivedSpool = _received.Values.Count(s => s == Spooling),
                receivedClosed = _received.Values.Count(s => s == Closed),
                refusedDuringOutage = during.Count(r => r.Status == 503),
                spooledAtKill,
                rows = total,
                lost,
                duplicates,
            };
            output.WriteLine(JsonSerializer.Serialize(report));
            await WriteArtifactAsync(JsonSerializer.Serialize(report));
            Assert.Equal(0, lost);
            Assert.Equal(0, duplicates);
        }
        finally
        {
            output.WriteLine(server.Output);
            await server.DisposeAsync();
        }
    }

    private static async Task<string> SetUpAsync(ServerProcess server, string upstreamUrl)
    {
        await Ok(server.Admin.PostAsJsonAsync("/api/v1/users", new { email = "owner@example.org", role = "owner" }));
        await Ok(server.Admin.PostAsJsonAsync("/api/v1/users", new { email = "rita@example.org", role = "reviewer", groups = new[] { "crash-reviewers" } }));
        await Ok(server.Admin.PostAsJsonAsync("/api/v1/users", new { email = "mia@example.org", role = "member", groups = new[] { CrashHarness.Group } }));
        using var key = await server.Admin.PostAsJsonAsync("/api/v1/keys", new { user = "mia@example.org" });
        var memberKey = JsonDocument.Parse(await key.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
        // The spool system spools by default (risk low); the other says fail_closed explicitly.
        foreach (var (name, extra) in new[] { (Spooling, ""), (Closed, "  evidence:\n    onStoreOutage: fail_closed") })
        {
            using var spec = new StringContent(CrashHarness.Spec(name, upstreamUrl, "full", extra), Encoding.UTF8, "application/yaml");
            await Ok(server.Admin.PostAsync("/api/v1/systems/apply", spec));
            await Ok(server.Admin.PostAsJsonAsync($"/api/v1/systems/{name}/decisions", new { outcome = "pilot", reason = "outage test", @override = true }));
        }
        return memberKey;
    }

    private async Task LoadAsync(HttpClient client, int n, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var system = n % 3 == 2 ? Closed : Spooling;
            try
            {
                var (id, outcome, status) = await CrashHarness.ChatAsync(client, system, i % 2 == 0, $"outage {n}/{i}", stop);
                if (outcome == CrashHarness.ChatOutcome.Answered) _received.TryAdd(id!, system);
                _results.Add((system, outcome == CrashHarness.ChatOutcome.Answered ? 200 : status, _clock.ElapsedMilliseconds));
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
            {
                await Task.Yield();
            }
        }
    }

    private async Task<(int Lost, int Duplicates, int Total)> CheckStoreAsync(string database)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("SELECT id, system, outcome FROM interactions", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var id = reader.GetString(0);
                counts[id] = counts.GetValueOrDefault(id) + (reader.GetString(2) == "served" ? 1 : 0);
            }
        }
        var lost = _received.Keys.Count(id => counts.GetValueOrDefault(id) != 1);
        foreach (var id in _received.Keys.Where(id => counts.GetValueOrDefault(id) != 1).Take(10)) output.WriteLine($"LOST {id}");
        await using var dup = new NpgsqlCommand("SELECT COUNT(*) - COUNT(DISTINCT id) FROM interactions", connection);
        var duplicates = Convert.ToInt32(await dup.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        return (lost, duplicates, counts.Count);
    }

    private sealed record Readiness(HttpStatusCode Code, string Status, string StoreState, long Spooled);

    private static async Task<Readiness> ReadinessAsync(HttpClient probe)
    {
        using var response = await probe.GetAsync("/readyz");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        return new Readiness(response.StatusCode, root.GetProperty("status").GetString()!, root.GetProperty("storeState").GetString()!, root.GetProperty("spooled").GetInt64());
    }

    private static async Task<Readiness> WaitForReadinessAsync(HttpClient probe, Func<Readiness, bool> condition)
    {
        Readiness? last = null;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            last = await ReadinessAsync(probe);
            if (condition(last)) return last;
            await Task.Delay(100);
        }
        throw new TimeoutException($"/readyz never reached the expected state; last: {last}");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"waited 60 s for {what}");
            await Task.Delay(20);
        }
    }

    private static async Task WriteArtifactAsync(string json)
    {
        var artifacts = Environment.GetEnvironmentVariable("PILOTAGE_ARTIFACTS");
        if (string.IsNullOrEmpty(artifacts)) return;
        Directory.CreateDirectory(Path.Combine(artifacts, "reliability"));
        await File.WriteAllTextAsync(Path.Combine(artifacts, "reliability", "store-outage.json"), json);
    }

    private static async Task Ok(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
