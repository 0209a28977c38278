using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace Pilotage.Testing;

/// <summary>
/// <c>pilotage serve</c> as a separate operating-system process on 127.0.0.1, for what an
/// in-process server cannot show: SIGKILL at a random moment, two replicas on one database.
/// The built CLI (<c>pilotage.dll</c>) is taken from next to the test assembly when the test project
/// references Pilotage.Cli, else from the CLI's own build output.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    public const string AdminToken = "process-admin-token";

    private readonly Process _process;
    // Kept so a failed start or an assertion can show what the server said; bounded so a chatty run
    // cannot grow the test process without limit.
    private readonly Queue<string> _output = new();
    private readonly Lock _outputLock = new();
    private readonly List<HttpClient> _clients = [];

    private ServerProcess(Process process, string url, string database)
    {
        _process = process;
        Url = url;
        Database = database;
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Admin = ClientFor(AdminToken);
    }

    public string Url { get; }
    public string Database { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;
    public HttpClient Admin { get; }

    /// <summary>What the process printed (last 500 lines), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_outputLock) return string.Join('\n', _output);
        }
    }

    /// <summary>
    /// Starts <c>pilotage serve --db <paramref name="database"/></c> on a free loopback port and waits
    /// until <c>/readyz</c> answers 200 (or fails with the process's output).
    /// </summary>
    /// <param name="port">0 picks a free port; a fixed port lets a restarted server keep its address.</param>
    /// <param name="cli">Another build's <c>pilotage.dll</c> (a benchmark's baseline); null: this build's (<see cref="CliDll"/>).</param>
    public static async Task<ServerProcess> StartAsync(string database, int port = 0, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? readyWithin = null, string? cli = null)
    {
        port = port == 0 ? FreePort() : port;
        var url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli ?? CliDll());
        foreach (var arg in new[] { "serve", "--db", database, "--urls", url }) start.ArgumentList.Add(arg);
        foreach (var name in new[] { "PILOTAGE_SERVER", "PILOTAGE_TOKEN", "PILOTAGE_DB", "PILOTAGE_WEBHOOK_URL", "PILOTAGE_WEBHOOK_SECRET" }) start.Environment.Remove(name);
        start.Environment["PILOTAGE_ADMIN_TOKEN"] = AdminToken;
        // The credentials file goes to a throwaway config folder, never the developer's own.
        start.Environment["XDG_CONFIG_HOME"] = Path.Combine(Path.GetTempPath(), "pilotage-process-" + port);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (environment is not null)
        {
            foreach (var (name, value) in environment) start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var server = new ServerProcess(process, url, database);
        try
        {
            await server.WaitReadyAsync(readyWithin ?? TimeSpan.FromSeconds(60));
            // /readyz answers once Kestrel listens; the admin key is registered just after that.
            if (environment?.ContainsKey("PILOTAGE_ADMIN_TOKEN") != true) await server.WaitAdminAsync(readyWithin ?? TimeSpan.FromSeconds(60));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>An HTTP client for this server with the given bearer token (null: anonymous).</summary>
    public HttpClient ClientFor(string? token)
    {
        var client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _clients.Add(client);
        return client;
    }

    /// <summary>Polls <c>/readyz</c> until it answers 200; throws with the server's output otherwise.</summary>
    public async Task WaitReadyAsync(TimeSpan within)
    {
        using var probe = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < within)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"pilotage serve exited with code {_process.ExitCode} before it was ready:\n{Output}");
            }
            try
            {
                using var response = await probe.GetAsync("/readyz");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"pilotage serve at {Url} was not ready within {within}:\n{Output}");
    }

    /// <summary>Polls until the admin token is accepted (the server registers it right after it starts listening).</summary>
    public async Task WaitAdminAsync(TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < within)
        {
            using var response = await Admin.GetAsync("/api/v1/users");
            if (response.StatusCode != HttpStatusCode.Unauthorized) return;
            await Task.Delay(50);
        }
        throw new TimeoutException($"pilotage serve at {Url} did not accept the admin token within {within}:\n{Output}");
    }

    /// <summary>SIGKILL: no shutdown hook runs, buffers are not flushed — a power cut for the process.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, then waits for the graceful shutdown (SIGKILL after <paramref name="grace"/>).</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        if (_process.HasExited) return;
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
        {
            if (kill is not null) await kill.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(20));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients) client.Dispose();
        await KillAsync();
        _process.Dispose();
    }

    /// <summary>A loopback port free at the time of asking.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The built CLI: next to the test assembly, else the CLI project's output for this configuration.</summary>
    public static string CliDll()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "pilotage.dll");
        if (File.Exists(beside)) return beside;
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var built = Path.Combine(RepoPaths.Root, "src", "Pilotage.Cli", "bin", configuration, "net10.0", "pilotage.dll");
        if (File.Exists(built)) return built;
        throw new FileNotFoundException($"pilotage.dll was not built: reference src/Pilotage.Cli from the test project or build it first (looked at {beside} and {built})");
    }

    private void Remember(string? line)
    {
        if (line is null) return;
        lock (_outputLock)
        {
            _output.Enqueue(line);
            while (_output.Count > 500) _output.Dequeue();
        }
    }
}
