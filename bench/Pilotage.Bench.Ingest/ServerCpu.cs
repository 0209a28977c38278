using Npgsql;

namespace Pilotage.Bench.Ingest;

/// <summary>
/// The CPU time PostgreSQL's backends spent for the bench's database, read from /proc when the server runs on this
/// machine (as the test server does): the sum of user and system time of every backend connected to the database.
/// A backend that opens during a measure counts from zero; one that closes during it is lost (the pool keeps them).
/// Shared processes (WAL writer, checkpointer) are left out. Null when the store is not PostgreSQL or not local.
/// </summary>
internal sealed class ServerCpu
{
    private readonly string _connectionString;

    private ServerCpu(string connectionString) => _connectionString = connectionString;

    public static ServerCpu? For(string database) =>
        database.Contains("Host=", StringComparison.OrdinalIgnoreCase) && Directory.Exists("/proc/self") ? new ServerCpu(database) : null;

    /// <summary>Per backend, its CPU seconds so far.</summary>
    public async Task<Dictionary<int, double>> SampleAsync()
    {
        var pids = new List<int>();
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_connectionString) { Pooling = false }.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) pids.Add(reader.GetInt32(0));
        }
        var cpu = new Dictionary<int, double>();
        foreach (var pid in pids)
        {
            string stat;
            try
            {
                stat = await File.ReadAllTextAsync($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            // Fields after the command's closing parenthesis; utime and stime are the 14th and 15th of the line.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            cpu[pid] = (double.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + double.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
        }
        return cpu;
    }

    /// <summary>CPU seconds spent between two samples.</summary>
    public static double Between(Dictionary<int, double> before, Dictionary<int, double> after) =>
        after.Sum(p => p.Value - before.GetValueOrDefault(p.Key));
}
