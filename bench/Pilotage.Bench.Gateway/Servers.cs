using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Npgsql;
using Pilotage.Server.Evidence;
using Pilotage.Server.Hosting;
using Yarp.ReverseProxy.Configuration;

namespace Pilotage.Bench.Gateway;

/// <summary>A Kestrel app on a loopback port, stopped on dispose.</summary>
internal sealed class RunningApp(WebApplication app, string url) : IAsyncDisposable
{
    public WebApplication App { get; } = app;
    public string Url { get; } = url;

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }

    public static string AddressOf(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
}

internal static class Servers
{
    /// <summary>A fixed small non-streaming OpenAI chat completion with usage (about 400 bytes).</summary>
    public static readonly byte[] Completion = Encoding.UTF8.GetBytes("""
        {"id":"chatcmpl-bench","object":"chat.completion","created":1764000000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"Thank you for your message. We will refund the order within 5 days."},"finish_reason":"stop"}],"usage":{"prompt_tokens":120,"completion_tokens":40,"total_tokens":160},"system_fingerprint":"fp_bench"}
        """.Trim());

    /// <summary>The same answer as a Responses API <c>response</c> (about 450 bytes).</summary>
    public static readonly byte[] Response = Encoding.UTF8.GetBytes("""
        {"id":"resp_bench","object":"response","created_at":1764000000,"status":"completed","model":"bench-model","output":[{"type":"message","id":"msg_bench","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Thank you for your message. We will refund the order within 5 days.","annotations":[]}]}],"usage":{"input_tokens":120,"output_tokens":40,"total_tokens":160}}
        """.Trim());

    /// <summary>The same answer as an Anthropic Messages <c>message</c> (about 330 bytes).</summary>
    public static readonly byte[] Message = Encoding.UTF8.GetBytes("""
        {"id":"msg_bench","type":"message","role":"assistant","model":"bench-model","content":[{"type":"text","text":"Thank you for your message. We will refund the order within 5 days."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":120,"output_tokens":40}}
        """.Trim());

    private static WebApplicationBuilder Builder()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [PilotageApp.NoConfigReload] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.Logging.ClearProviders();
        // Standard error: the server child's standard output is its handshake with the parent, and a fresh
        // machine's first run warns (no data-protection key ring yet).
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // As YARP's own benchmarks and Pilotage itself (below --verbose): no per-request Activity for log scopes.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        return builder;
    }

    /// <summary>Answers every chat completion at once: reads the body, writes <see cref="Completion"/>.</summary>
    public static async Task<RunningApp> StartUpstreamAsync()
    {
        var app = Builder().Build();
        app.MapPost("/v1/chat/completions", (HttpContext http) => AnswerAsync(http, Completion));
        app.MapPost("/v1/responses", (HttpContext http) => AnswerAsync(http, Response));
        app.MapPost("/v1/messages", (HttpContext http) => AnswerAsync(http, Message));
        await app.StartAsync();
        return new RunningApp(app, RunningApp.AddressOf(app));
    }

    private static async Task AnswerAsync(HttpContext http, byte[] answer)
    {
        await http.Request.Body.CopyToAsync(Stream.Null, http.RequestAborted);
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = answer.Length;
        await http.Response.Body.WriteAsync(answer, http.RequestAborted);
    }

    /// <summary>A bare YARP reverse proxy: every path to the upstream, nothing else in the pipeline.</summary>
    public static async Task<RunningApp> StartYarpAsync(string upstreamUrl)
    {
        var builder = Builder();
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "{**catch-all}" } }],
            [new ClusterConfig { ClusterId = "upstream", Destinations = new Dictionary<string, DestinationConfig> { ["instant"] = new() { Address = upstreamUrl } } }]);
        var app = builder.Build();
        app.MapReverseProxy();
        await app.StartAsync();
        return new RunningApp(app, RunningApp.AddressOf(app));
    }
}

/// <summary>
/// The instant upstream and YARP in child processes, so that the process measured holds Pilotage alone: its
/// OpenTelemetry listener picks meters by name, so in one process it would also measure every request YARP and the
/// upstream serve (making them pay for Pilotage's metrics), and its memory figures would include theirs.
/// By default (<c>--yarp-process own</c>) YARP has a process of its own, as Pilotage does: each proxy's call to the
/// upstream then crosses from one process to another. With <c>--yarp-process shared</c> YARP shares the upstream's
/// process and thread pool, which spares its hop the wake-up of another process's threads that Pilotage's hop pays.
/// </summary>
internal sealed class ServerChild : IAsyncDisposable
{
    private readonly List<System.Diagnostics.Process> _children;

    private ServerChild(List<System.Diagnostics.Process> children, string upstreamUrl, string yarpUrl, System.Diagnostics.Process? yarpChild)
    {
        _children = children;
        UpstreamUrl = upstreamUrl;
        YarpUrl = yarpUrl;
        YarpChild = yarpChild;
    }

    /// <summary>YARP's own process (<c>--yarp-process own</c>), which times its requests as the Pilotage process does; null when shared.</summary>
    public System.Diagnostics.Process? YarpChild { get; }

    public string UpstreamUrl { get; }
    public string YarpUrl { get; }

    public static async Task<ServerChild> StartAsync(bool yarpInOwnProcess)
    {
        var children = new List<System.Diagnostics.Process>();
        System.Diagnostics.Process? yarpChild = null;
        var servers = Orchestrator.StartChild(yarpInOwnProcess ? ["--servers", "--upstream-only"] : ["--servers"]);
        children.Add(servers);
        var line = await servers.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the server child exited before it was ready");
        if (line.Split(' ') is not ["servers", var upstream, var yarp]) throw new InvalidOperationException($"unexpected line from the server child: {line}");
        if (yarpInOwnProcess)
        {
            var proxy = Orchestrator.StartChild(["--yarp-for", upstream]);
            children.Add(proxy);
            line = await proxy.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the YARP child exited before it was ready");
            if (line.Split(' ') is not ["yarp", var own]) throw new InvalidOperationException($"unexpected line from the YARP child: {line}");
            yarp = own;
            yarpChild = proxy;
        }
        return new ServerChild(children, upstream, yarp, yarpChild);
    }

    /// <summary>The servers child's side: start the upstream (and YARP, unless it has its own child), say where, serve until the parent closes standard input.</summary>
    public static async Task<int> RunAsync(bool upstreamOnly)
    {
        await using var upstream = await Servers.StartUpstreamAsync();
        await using var yarp = upstreamOnly ? null : await Servers.StartYarpAsync(upstream.Url);
        Console.WriteLine($"servers {upstream.Url} {yarp?.Url ?? "-"}");
        await Console.In.ReadToEndAsync();
        return 0;
    }

    /// <summary>
    /// The YARP child's side (<c>--yarp-for URL</c>): serves until the parent closes standard input. Meanwhile it times
    /// its requests by phase (<c>PHASE kind round target</c> from the parent), and answers <c>REPORT</c> with those
    /// times, then <c>END</c>.
    /// </summary>
    public static async Task<int> RunYarpAsync(string upstreamUrl)
    {
        using var timings = new PhaseRecorder();
        await using var yarp = await Servers.StartYarpAsync(upstreamUrl);
        Console.WriteLine($"yarp {yarp.Url}");
        while (await Console.In.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("PHASE ", StringComparison.Ordinal))
            {
                timings.Phase = line["PHASE ".Length..];
            }
            else if (line == "REPORT")
            {
                foreach (var times in timings.Drain()) Console.WriteLine(times);
                Console.WriteLine("END");
            }
        }
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var child in _children)
        {
            child.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await child.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                child.Kill(entireProcessTree: true);
            }
            child.Dispose();
        }
    }
}

/// <summary>
/// Pilotage in this process, with a member key and three systems in pilot: durable and async evidence, and durable
/// in front of an upstream that speaks the Responses API.
/// </summary>
internal sealed class PilotageUnderTest : IAsyncDisposable
{
    public const string Durable = "bench-durable";
    public const string Async = "bench-async";
    public const string Responses = "bench-responses";

    /// <summary>As <see cref="Async"/>, in front of an upstream that speaks the Responses API (<c>--protocol responses</c>: passed through).</summary>
    public const string AsyncResponses = "bench-async-responses";

    /// <summary>As <see cref="Async"/>, in front of an upstream that speaks Anthropic Messages (<c>--protocol anthropic</c>: passed through).</summary>
    public const string AsyncAnthropic = "bench-async-anthropic";

    /// <summary>As <see cref="Async"/>, with every built-in detector of the data boundary on requests and answers.</summary>
    public const string Boundary = "bench-boundary";

    /// <summary>Blocks what must never reach the model, redacts contact data, and redacts answers: every built-in detector runs on every text.</summary>
    private const string BoundarySpec = """
          evidence: { durability: async }
          dataBoundary:
            block: [credit_card, iban, secret, us_ssn, uk_nino, eu_vat]
            redact: [email, phone]
            answers: redact
        """;
    private const string AdminToken = "bench-admin";
    private static readonly string[] BenchGroups = ["bench"];

    private readonly WebApplication _app;
    private readonly Func<Task> _cleanup;
    private readonly Func<Task> _flushStore;

    private PilotageUnderTest(WebApplication app, string url, string key, string store, Func<Task> cleanup, Func<Task> flushStore)
    {
        _app = app;
        Url = url;
        Key = key;
        Store = store;
        _cleanup = cleanup;
        _flushStore = flushStore;
    }

    public string Url { get; }
    public string Key { get; }
    public string Store { get; }
    public EvidenceWriter Writer => _app.Services.GetRequiredService<EvidenceWriter>();

    public static async Task<PilotageUnderTest> StartSqliteAsync(string upstreamBaseUrl)
    {
        var folder = Path.Combine(Path.GetTempPath(), "pilotage-gwbench-" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        return await StartAsync(Path.Combine(folder, "pilotage.db"), "SQLite (temp file, WAL)", upstreamBaseUrl, () =>
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
            return Task.CompletedTask;
        }, () => Task.CompletedTask);
    }

    public static async Task<PilotageUnderTest> StartPostgresAsync(string server, string upstreamBaseUrl)
    {
        var name = "pilotage_gwbench_" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture);
        await AdminSqlAsync(server, $"CREATE DATABASE \"{name}\"");
        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
        return await StartAsync(connectionString, $"PostgreSQL (database {name})", upstreamBaseUrl, async () =>
        {
            NpgsqlConnection.ClearAllPools();
            await AdminSqlAsync(server, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        }, () => AdminSqlAsync(connectionString, "CHECKPOINT"));
    }

    /// <summary>
    /// Writes out everything earlier phases left for the disk: PostgreSQL's dirty buffers (a checkpoint), then the
    /// operating system's (<c>sync</c>). Without it, a phase's commits raced the write-back of the previous phase's
    /// hundreds of megabytes, and the fixed-rate phase after a throughput phase measured that, not its own load.
    /// </summary>
    public async Task FlushStoreAsync()
    {
        await _flushStore();
        if (OperatingSystem.IsWindows()) return;
        using var sync = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sync") { UseShellExecute = false });
        if (sync is not null) await sync.WaitForExitAsync();
    }

    private static async Task<PilotageUnderTest> StartAsync(string database, string store, string upstreamBaseUrl, Func<Task> cleanup, Func<Task> flushStore)
    {
        var app = PilotageApp.Build(new PilotageServerOptions
        {
            Database = database,
            Urls = "http://127.0.0.1:0",
            AdminToken = AdminToken,
            CredentialsPath = "",
            LogLevel = LogLevel.Warning,
        });
        var url = await PilotageApp.StartAsync(app, CancellationToken.None);
        using var admin = new HttpClient { BaseAddress = new Uri(url) };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        var key = await SetUpAsync(admin, upstreamBaseUrl);
        return new PilotageUnderTest(app, url, key, store, cleanup, flushStore);
    }

    /// <summary>The bench's owner, member and systems in pilot, through an admin client of any Pilotage (in process or a replica); returns the member's key.</summary>
    internal static async Task<string> SetUpAsync(HttpClient admin, string upstreamBaseUrl)
    {
        await Ok(admin.PostAsJsonAsync("/api/v1/users", new { email = "owner@example.org", role = "owner", groups = Array.Empty<string>() }), "create owner");
        await Ok(admin.PostAsJsonAsync("/api/v1/users", new { email = "bench@example.org", role = "member", groups = BenchGroups }), "create user");
        var key = (await KeysAsync(admin, 1))[0];
        foreach (var (slug, extra, protocol) in new[] { (Durable, "", "openai-chat"), (Async, "  evidence: { durability: async }", "openai-chat"), (Boundary, BoundarySpec, "openai-chat"), (Responses, "", "openai-responses"),
            (AsyncResponses, "  evidence: { durability: async }", "openai-responses"), (AsyncAnthropic, "  evidence: { durability: async }", "anthropic") })
        {
            using var yaml = new StringContent(Spec(slug, upstreamBaseUrl, extra, protocol), Encoding.UTF8, "application/yaml");
            await Ok(admin.PostAsync("/api/v1/systems/apply", yaml), "apply " + slug);
            await Ok(admin.PostAsJsonAsync($"/api/v1/systems/{slug}/decisions", new { outcome = "pilot", reason = "bench" }), "pilot " + slug);
        }
        return key;
    }

    /// <summary>More keys of the bench's member: the gateway caps answers in flight per key, so many connections need several.</summary>
    internal static async Task<List<string>> KeysAsync(HttpClient admin, int count)
    {
        var keys = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            using var keyJson = JsonDocument.Parse(await Ok(admin.PostAsJsonAsync("/api/v1/keys", new { user = "bench@example.org" }), "create key"));
            keys.Add(keyJson.RootElement.GetProperty("key").GetString()!);
        }
        return keys;
    }

    /// <summary>An admin client of this Pilotage.</summary>
    public HttpClient Admin()
    {
        var admin = new HttpClient { BaseAddress = new Uri(Url) };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        return admin;
    }

    private static string Spec(string name, string upstream, string extra, string protocol) => $"""
        apiVersion: pilotage/v1
        kind: AiSystem
        metadata:
          name: {name}
        spec:
          owner: owner@example.org
          purpose: Gateway overhead benchmark
          risk: low
          upstream:
            baseUrl: {upstream}
            model: bench-model
            protocol: {protocol}
            pricePer1kInput: 0.5
            pricePer1kOutput: 1.5
          config:
            systemPrompt: You draft polite replies to support tickets.
            temperature: 0.2
          pilot:
            group: bench
            mode: full
            ends: 2099-12-31
        {extra}
        """;

    private static async Task<string> Ok(Task<HttpResponseMessage> call, string what)
    {
        using var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {text}");
        return text;
    }

    internal static async Task AdminSqlAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
#pragma warning disable CA2100 // The database name is generated from a GUID, never input.
        await using var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _cleanup();
    }
}
