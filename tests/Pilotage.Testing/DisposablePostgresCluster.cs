using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Pilotage.Testing;

/// <summary>
/// A PostgreSQL server of the test's own: <c>initdb</c> in a temp folder, started on a free loopback
/// port, stopped and deleted on dispose. For tests that must stop the database under a running server
/// (store outage) — never the shared server of <c>PILOTAGE_TEST_POSTGRES</c>. Runs the binaries as the
/// <c>postgres</c> user through <c>runuser</c> when the tests run as root (initdb refuses root).
/// </summary>
public sealed class DisposablePostgresCluster : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _folder;
    private bool _disposed;

    private DisposablePostgresCluster(string bin, string folder, int port)
    {
        _bin = bin;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    public string DataDirectory => Path.Combine(_folder, "data");

    /// <summary>Connection string to the <c>postgres</c> database as the superuser.</summary>
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres";

    /// <summary>Connection string to <paramref name="database"/>.</summary>
    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}";

    /// <summary>The newest <c>/usr/lib/postgresql/*/bin</c> with initdb and pg_ctl, or null.</summary>
    public static string? FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root)) return null;
        return Directory.EnumerateDirectories(root)
            .Select(d => Path.Combine(d, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
            .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0)
            .FirstOrDefault();
    }

    /// <summary>Why the cluster cannot be made here, or null when it can.</summary>
    public static string? SkipReason()
    {
        if (!OperatingSystem.IsLinux()) return "own PostgreSQL clusters are made on Linux only";
        if (FindBinaries() is null) return "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql; .ci/run does)";
        if (IsRoot() && !File.Exists("/usr/sbin/runuser") && !File.Exists("/sbin/runuser")) return "running as root without runuser to drop to the postgres user";
        return null;
    }

    public static async Task<DisposablePostgresCluster> StartAsync()
    {
        var bin = FindBinaries() ?? throw new InvalidOperationException(SkipReason());
        var folder = Path.Combine(Path.GetTempPath(), "pilotage-own-pg-" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        Directory.CreateDirectory(Path.Combine(folder, "sock"));
        var cluster = new DisposablePostgresCluster(bin, folder, ServerProcess.FreePort());
        try
        {
            if (IsRoot()) await RunAsync("chown", ["-R", "postgres:postgres", folder]);
            await cluster.AsPostgresAsync("initdb", ["-D", cluster.DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"]);
            await cluster.StartServerAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>Starts (or restarts) the server on its port and waits until it accepts connections.</summary>
    public Task StartServerAsync() => AsPostgresAsync("pg_ctl",
    [
        "-D", DataDirectory, "-l", Path.Combine(_folder, "postgres.log"), "-w", "-t", "60",
        "-o", $"-p {Port} -k {Path.Combine(_folder, "sock")} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=100",
        "start",
    ]);

    /// <summary><c>pg_ctl stop -m immediate</c>: every backend is dropped at once, a crash for its clients.</summary>
    public Task StopImmediateAsync() => AsPostgresAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);

    /// <summary>The server's log, for failure messages.</summary>
    public string Log()
    {
        var path = Path.Combine(_folder, "postgres.log");
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            await AsPostgresAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
        }
        catch (InvalidOperationException)
        {
            // Not running (never started, or already stopped by the test).
        }
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private Task AsPostgresAsync(string tool, IReadOnlyList<string> arguments)
    {
        var path = Path.Combine(_bin, tool);
        return IsRoot()
            ? RunAsync("runuser", ["-u", "postgres", "--", path, .. arguments])
            : RunAsync(path, arguments);
    }

    private static async Task RunAsync(string file, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        output.Append(await stdout).Append(await stderr);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{output}");
        }
    }

    private static bool IsRoot() => OperatingSystem.IsLinux() && Environment.UserName == "root";
}

/// <summary>
/// A <see cref="Xunit.FactAttribute"/> for tests that start their own PostgreSQL (<see cref="DisposablePostgresCluster"/>).
/// Skipped with the reason when the server binaries are missing — except under <c>CI=true</c>, where
/// .ci/run installs them and a skip would hide a broken set-up: there the test runs and fails loudly.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class OwnPostgresFactAttribute : Xunit.FactAttribute
{
    public OwnPostgresFactAttribute()
    {
        var ci = Environment.GetEnvironmentVariable("CI");
        var isCi = string.Equals(ci, "true", StringComparison.OrdinalIgnoreCase) || ci == "1";
        if (!isCi && DisposablePostgresCluster.SkipReason() is { } reason) Skip = reason;
    }
}
