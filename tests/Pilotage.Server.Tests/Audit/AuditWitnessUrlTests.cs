using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Pilotage.Core.Audit.Checkpoints;
using Pilotage.Server.Audit;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Audit;

/// <summary>
/// The webhook witness (<c>PILOTAGE_AUDIT_WITNESS_URL</c>): a real server POSTs each signed checkpoint to a real
/// loopback listener, retries a failed post, and no command or checkpoint waits for the listener.
/// </summary>
public sealed class AuditWitnessUrlTests
{
    [Fact]
    public async Task Each_signed_checkpoint_is_posted_to_the_witness_url_and_a_refused_post_is_retried()
    {
        await using var witness = await WitnessListener.StartAsync();
        witness.RefuseFirst = 1;
        using var folder = new TempDirectory();
        await using var server = await StartAsync(witness, folder);
        await server.CreateUserWithKeyAsync("dana@example.org", "owner", "support-pilot");
        var first = await CheckpointAsync(server);
        await server.CreateUserWithKeyAsync("sam@example.org", "reviewer", "support-leads");
        var second = await CheckpointAsync(server);
        Assert.True(second.Size > first.Size, $"{first.Size} then {second.Size}");

        await WaitAsync(() => witness.Received.Any(r => r.Body == second.Note));
        var key = NoteVerifier.Parse((await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/public-key")).GetProperty("publicKey").GetString()!);
        // The first post was refused (500) and posted again: both checkpoints arrived, exactly as the server signed them.
        Assert.Contains(witness.Received, r => r.Body == first.Note);
        Assert.True(witness.Attempts > witness.Received.Count, $"{witness.Attempts} attempts, {witness.Received.Count} received");
        Assert.All(witness.Received, r =>
        {
            Assert.StartsWith("text/plain", r.ContentType, StringComparison.Ordinal);
            var opened = OpenedCheckpoint.Open(r.Body, key);
            Assert.Equal(NoteOutcome.Verified, opened.Outcome);
        });
        var sizes = witness.Received.Select(r => OpenedCheckpoint.Open(r.Body, key).Checkpoint!.TreeSize).ToList();
        Assert.Contains(first.Size, sizes);
        Assert.Contains(second.Size, sizes);
        // What the witness holds checks the log: a checkpoint it received verifies against the server's log.
        var verified = await AuditCheckpointAttackTests.VerifyAsync(server, witness.Received.First(r => r.Body == first.Note).Body);
        Assert.True(verified.GetProperty("ok").GetBoolean(), verified.ToString());
    }

    [Fact]
    public async Task A_witness_that_does_not_answer_holds_up_no_command_and_no_checkpoint()
    {
        await using var witness = await WitnessListener.StartAsync();
        witness.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var folder = new TempDirectory();
        await using var server = await StartAsync(witness, folder);
        await server.CreateUserWithKeyAsync("dana@example.org", "owner", "support-pilot");
        var first = await CheckpointAsync(server);
        await WaitAsync(() => witness.Holding > 0);

        // The witness holds the first post open: commands commit and checkpoints are signed all the same.
        await server.CreateUserWithKeyAsync("sam@example.org", "reviewer", "support-leads");
        var second = await CheckpointAsync(server);
        Assert.True(second.Size > first.Size);
        Assert.Equal(1, witness.Holding);
        Assert.Empty(witness.Received);

        witness.Hold.SetResult();
        await WaitAsync(() => witness.Received.Any(r => r.Body == second.Note));
        Assert.Contains(witness.Received, r => r.Body == first.Note);
    }

    private static Task<PilotageTestServer> StartAsync(WitnessListener witness, TempDirectory folder) =>
        PilotageTestServer.StartAsync(configure: o => o with
        {
            AuditLog = new AuditLogOptions { KeyPath = folder.File("audit.key"), WitnessUrl = new Uri(witness.Url) },
        });

    private sealed record Signed(string Note, long Size);

    private static async Task<Signed> CheckpointAsync(PilotageTestServer server)
    {
        var response = await server.Admin.PostAsync("/api/v1/audit/checkpoints", null);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return new Signed(body.GetProperty("checkpoint").GetString()!, body.GetProperty("treeSize").GetInt64());
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        // The server waits 2 s before posting again after a refusal.
        for (var i = 0; i < 400 && !condition(); i++) await Task.Delay(50);
        Assert.True(condition(), "timed out waiting for the witness");
    }

    /// <summary>A loopback HTTP listener standing in for another system that keeps checkpoints.</summary>
    private sealed class WitnessListener : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _attempts;
        private int _holding;

        private WitnessListener(WebApplication app) => _app = app;

        public int RefuseFirst { get; set; }
        /// <summary>When set, each post waits for it before it is answered.</summary>
        public TaskCompletionSource? Hold { get; set; }
        public int Attempts => Volatile.Read(ref _attempts);
        public int Holding => Volatile.Read(ref _holding);
        public ConcurrentQueue<(string ContentType, string Body)> Received { get; } = new();
        public string Url => _app.Urls.First() + "/checkpoints";

        public static async Task<WitnessListener> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [Server.Hosting.PilotageApp.NoConfigReload] });
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            var app = builder.Build();
            var listener = new WitnessListener(app);
            app.MapPost("/checkpoints", async (HttpContext http) =>
            {
                var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
                if (Interlocked.Increment(ref listener._attempts) <= listener.RefuseFirst) return Results.StatusCode(500);
                if (listener.Hold is { } hold)
                {
                    Interlocked.Increment(ref listener._holding);
                    await hold.Task;
                    Interlocked.Decrement(ref listener._holding);
                }
                listener.Received.Enqueue((http.Request.ContentType ?? "", body));
                return Results.Ok();
            });
            await app.StartAsync();
            return listener;
        }

        public async ValueTask DisposeAsync()
        {
            Hold?.TrySetResult();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
