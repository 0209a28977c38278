using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Npgsql;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;
using static Pilotage.Server.Tests.Replicas.ReplicaTests;

namespace Pilotage.Server.Tests.Replicas;

/// <summary>
/// Limits and budgets on PostgreSQL hold across replicas: two <c>pilotage serve</c> processes on one database
/// admit no more than the limit between them, a killed replica's slice comes back once its lease expires
/// (neither lost nor spent twice), and a replica that cannot reach the store refuses rather than counts alone.
/// </summary>
public sealed class SharedLimitTests
{
    private const string System = GatewayHarness.System;
    private const int PerMinute = 20;

    /// <summary>Short intervals, so that slices go back and leases expire within the test.</summary>
    private static readonly Dictionary<string, string> Fast = new()
    {
        ["PILOTAGE_LIMIT_RETURN_SECONDS"] = "0.2",
        ["PILOTAGE_LIMIT_LEASE_SECONDS"] = "1",
    };

    private static string Limits(string lines) => "  limits:\n" + lines;

    [PostgresFact]
    public async Task Two_replicas_taking_turns_reach_the_limit_and_hammered_at_once_never_pass_it()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var upstream = await FakeUpstream.StartAsync();
        await using var a = await ServerProcess.StartAsync(database.ConnectionString, environment: Fast);
        await using var b = await ServerProcess.StartAsync(database.ConnectionString, environment: Fast);
        var (first, _) = await SetUpPilotAsync(a, upstream, "full", Limits($"    requestsPerMinutePerKey: {PerMinute}"));
        await WaitForStatusAsync(b.ClientFor(first), HttpStatusCode.OK, TimeSpan.FromSeconds(5));
        var turns = await CreateKeyAsync(a, "mia@example.org");
        var hammer = await CreateKeyAsync(a, "mia@example.org");
        await KnownAsync(b, turns);
        await KnownAsync(b, hammer);
        await WholeMinuteAheadAsync();

        // Taking turns: every request goes to the other replica, whose slice may be empty while the other holds one.
        var onA = a.ClientFor(turns);
        var onB = b.ClientFor(turns);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < PerMinute + 10; i++) statuses.Add(await SendAsync(i % 2 == 0 ? onA : onB));
        var admitted = statuses.Count(s => s == HttpStatusCode.OK);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"unexpected {(int)s}"));
        Assert.InRange(admitted, PerMinute - 2, PerMinute);
        // Once refused, refused on both: the limit is reached, not merely held elsewhere.
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync(onA));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync(onB));

        // At once from both: 40 requests per replica in parallel, never more than the limit between them.
        var hammerA = a.ClientFor(hammer);
        var hammerB = b.ClientFor(hammer);
        var all = await Task.WhenAll(Enumerable.Range(0, 2 * PerMinute).SelectMany(_ => new[] { SendAsync(hammerA), SendAsync(hammerB) }));
        var hammered = all.Count(s => s == HttpStatusCode.OK);
        Assert.InRange(hammered, 1, PerMinute);
        var refused = await (await hammerB.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("one more"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("rate_limited", refused.GetProperty("error").GetProperty("code").GetString());
    }

    [PostgresFact]
    public async Task A_replica_killed_holding_a_slice_gives_it_back_after_its_lease_expires_neither_lost_nor_spent_twice()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var upstream = await FakeUpstream.StartAsync();
        await using var a = await ServerProcess.StartAsync(database.ConnectionString, environment: Fast);
        await using var b = await ServerProcess.StartAsync(database.ConnectionString, environment: Fast);
        var (first, firstId) = await SetUpPilotAsync(a, upstream, "full", Limits($"    requestsPerMinutePerKey: {PerMinute}"));
        await WaitForStatusAsync(b.ClientFor(first), HttpStatusCode.OK, TimeSpan.FromSeconds(5));
        var key = await CreateKeyAsync(a, "mia@example.org");
        var otherKeys = $"rpm|{System}|{firstId}";
        await KnownAsync(b, key);
        await WholeMinuteAheadAsync();

        var onA = a.ClientFor(key);
        var admittedOnA = 0;
        for (var i = 0; i < 5; i++) admittedOnA += await SendAsync(onA) == HttpStatusCode.OK ? 1 : 0;
        Assert.Equal(5, admittedOnA);
        // The moment to kill A: it has reported all it spent and still holds an unused slice (given back after two
        // idle intervals). On a busy machine that moment can be missed: one more request opens it again.
        var held = 0L;
        for (var attempt = 0; held == 0 && attempt < 8; attempt++)
        {
            Assert.Equal(HttpStatusCode.OK, await SendAsync(onA));
            admittedOnA++;
            var clock0 = global::System.Diagnostics.Stopwatch.StartNew();
            while (clock0.Elapsed < TimeSpan.FromSeconds(1))
            {
                var (used, outstanding) = await AllowanceAsync(database.ConnectionString, otherKeys);
                if (outstanding > 0 && used - outstanding == admittedOnA)
                {
                    held = outstanding;
                    break;
                }
                await Task.Delay(10);
            }
        }
        Assert.True(held > 0, "replica A never held a slice with all its spending reported");
        await a.KillAsync();

        // B gets what is not held at once, and A's unused slice once its lease (1 s) expires: exactly the rest.
        var onB = b.ClientFor(key);
        var admittedOnB = 0;
        var clock = global::System.Diagnostics.Stopwatch.StartNew();
        while (admittedOnA + admittedOnB < PerMinute && clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (await SendAsync(onB) == HttpStatusCode.OK) admittedOnB++;
            else await Task.Delay(100);
        }
        Assert.Equal(PerMinute, admittedOnA + admittedOnB);
        // Nothing more, even after more leases would have expired: nothing was handed out twice.
        await Task.Delay(1500);
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync(onB));
        var (usedAfter, outstandingAfter) = await AllowanceAsync(database.ConnectionString, otherKeys);
        Assert.Equal(PerMinute, usedAfter - outstandingAfter);
    }

    [PostgresFact]
    public async Task A_daily_budget_shared_by_two_replicas_is_passed_by_at_most_the_answer_in_flight()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var upstream = await FakeUpstream.StartAsync();
        await using var a = await ServerProcess.StartAsync(database.ConnectionString, environment: Fast);
        await using var b = await ServerProcess.StartAsync(database.ConnectionString, environment: Fast);
        // Each answer costs 0.12 (120 prompt tokens at 0.5 per 1k, 40 completion tokens at 1.5 per 1k): five fit in 0.6.
        var (key, _) = await SetUpPilotAsync(a, upstream, "full", Limits("    costPerDay: 0.6"));
        var onA = a.ClientFor(key);
        var onB = b.ClientFor(key);
        await KnownAsync(b, key);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            statuses.Add(await SendAsync(i % 2 == 0 ? onA : onB));
            // One answer in flight at a time: its cost is counted before the next request.
            await Task.Delay(100);
        }
        var answered = statuses.Count(s => s == HttpStatusCode.OK);
        Assert.InRange(answered, 5, 6);
        using var refused = await onB.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("one more"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var body = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("budget_exceeded", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("limits.costPerDay", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task A_replica_that_cannot_reach_the_store_refuses_limited_requests_with_a_429_that_says_so()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var upstream = await FakeUpstream.StartAsync();
        await using var proxy = await TcpRelay.StartAsync(new NpgsqlConnectionStringBuilder(database.ConnectionString));
        await using var a = await ServerProcess.StartAsync(database.ConnectionString, environment: Fast);
        await using var b = await ServerProcess.StartAsync(proxy.ConnectionString, environment: Fast);
        var (key, _) = await SetUpPilotAsync(a, upstream, "full", Limits($"    requestsPerMinutePerKey: 1000\n    costPerDay: 100"));
        var onB = b.ClientFor(key);
        await WaitForStatusAsync(onB, HttpStatusCode.OK, TimeSpan.FromSeconds(5));

        // The database drops out of B's reach; B's slices go back (or expire) and it cannot lease more.
        proxy.Cut();
        await Task.Delay(1000);
        using var response = await onB.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?"));
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Contains(error.GetProperty("code").GetString(), new[] { "rate_limited", "budget_exceeded" });
        Assert.Contains("limit store (PostgreSQL) is unreachable", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        // Replica A, which reaches the store, still serves.
        Assert.Equal(HttpStatusCode.OK, await SendAsync(a.ClientFor(key)));
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private static async Task<HttpStatusCode> SendAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?"));
        return response.StatusCode;
    }

    /// <summary>Waits until the replica knows a key, without spending its allowance (GET /v1/models is not limited).</summary>
    private static Task KnownAsync(ServerProcess replica, string key)
    {
        var client = replica.ClientFor(key);
        return WaitForAsync(async () => (await client.GetAsync("/v1/models")).IsSuccessStatusCode, "the replica to know the key");
    }

    /// <summary>Limits count in whole minutes: start with at least 30 s of the current one ahead.</summary>
    private static async Task WholeMinuteAheadAsync()
    {
        var second = DateTimeOffset.UtcNow.Second;
        if (second > 30) await Task.Delay(TimeSpan.FromSeconds(60 - second + 0.2));
    }

    /// <summary>The requests-per-minute limit's total handed out, and what replicas hold unreported (other than <paramref name="except"/>).</summary>
    private static async Task<(long Used, long Outstanding)> AllowanceAsync(string connectionString, string except)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT coalesce((SELECT sum(used) FROM allowances WHERE limit_key LIKE 'rpm|%' AND limit_key <> $1), 0)::bigint,
                   coalesce((SELECT sum(outstanding) FROM allowance_leases WHERE limit_key LIKE 'rpm|%' AND limit_key <> $1), 0)::bigint
            """, connection);
        command.Parameters.Add(new() { Value = except });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>A TCP relay in front of PostgreSQL that can be cut, to take the database out of one replica's reach.</summary>
    private sealed class TcpRelay : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly string _host;
        private readonly int _port;
        private readonly CancellationTokenSource _cut = new();
        private readonly List<TcpClient> _open = [];
        private Task _accepting = Task.CompletedTask;

        private TcpRelay(string host, int port)
        {
            _host = host;
            _port = port;
        }

        public string ConnectionString { get; private set; } = "";

        public static Task<TcpRelay> StartAsync(NpgsqlConnectionStringBuilder target)
        {
            var relay = new TcpRelay(target.Host!, target.Port);
            relay._listener.Start();
            relay.ConnectionString = new NpgsqlConnectionStringBuilder(target.ConnectionString)
            {
                Host = "127.0.0.1",
                Port = ((IPEndPoint)relay._listener.LocalEndpoint).Port,
            }.ConnectionString;
            relay._accepting = relay.AcceptAsync();
            return Task.FromResult(relay);
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(_cut.Token);
                    var server = new TcpClient();
                    await server.ConnectAsync(_host, _port, _cut.Token);
                    lock (_open)
                    {
                        _open.Add(client);
                        _open.Add(server);
                    }
                    _ = PumpAsync(client.GetStream(), server.GetStream());
                    _ = PumpAsync(server.GetStream(), client.GetStream());
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        private async Task PumpAsync(NetworkStream from, NetworkStream to)
        {
            try
            {
                await from.CopyToAsync(to, _cut.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
            {
            }
        }

        /// <summary>Closes every relayed connection and refuses new ones.</summary>
        public void Cut()
        {
            _cut.Cancel();
            _listener.Stop();
            lock (_open)
            {
                foreach (var connection in _open) connection.Dispose();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_cut.IsCancellationRequested) Cut();
            await _accepting;
            _cut.Dispose();
        }
    }
}
