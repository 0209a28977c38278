using System.Globalization;
using Npgsql;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Gateway.Allowances;

/// <summary>
/// How replicas share limits. From the environment, so that operators set it per deployment:
/// <c>PILOTAGE_LIMIT_RETURN_SECONDS</c> (how often a replica reports what it spent and renews its leases;
/// a slice unused for two of these goes back; default 0.5, 0.05 to 0.5) and <c>PILOTAGE_LIMIT_LEASE_SECONDS</c> (how long a slice stays a
/// replica's without being renewed; after that, a replica that died gives back what it had not reported
/// spent; default 10, 0.5 to 600).
/// </summary>
public sealed record AllowanceOptions(TimeSpan ReturnInterval, TimeSpan LeaseTime)
{
    public static AllowanceOptions Default { get; } = new(TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(10));

    public static AllowanceOptions FromEnvironment(Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        return new(Seconds(read, "PILOTAGE_LIMIT_RETURN_SECONDS", Default.ReturnInterval, 0.05, 0.5),
            Seconds(read, "PILOTAGE_LIMIT_LEASE_SECONDS", Default.LeaseTime, 0.5, 600));
    }

    private static TimeSpan Seconds(Func<string, string?> read, string name, TimeSpan fallback, double min, double max)
    {
        if (read(name) is not { Length: > 0 } text) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds < min || seconds > max)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{name} is '{text}'; give a number of seconds between {min} and {max} (default {fallback.TotalSeconds})."));
        }
        return TimeSpan.FromSeconds(seconds);
    }
}

/// <summary>What one call of <c>pilotage_allowance</c> answered: the slice granted, the limit's total handed
/// out (spent plus slices held), and how many other replicas hold a slice of it.</summary>
internal readonly record struct AllowanceAnswer(long Granted, long Used, int Holders);

/// <summary>One report to the store: spent within the slice, spent past it, given back, and whether to lease.</summary>
internal readonly record struct AllowanceReport(long Consumed, long Overrun, long Returned, bool Lease);

/// <summary>
/// The PostgreSQL side of shared limits: one statement per lease, report or return (the function in
/// Storage/RawSchema.cs), and the message that asks the other replicas to give a limit's slices back.
/// Short timeouts: a replica that cannot reach the store refuses (fails closed) rather than hangs.
/// </summary>
internal sealed class AllowanceStore : IAsyncDisposable
{
    public const string RecallChannel = "pilotage_allowance";

    private readonly NpgsqlDataSource _source;
    private readonly int _leaseMilliseconds;

    public AllowanceStore(StoreLocation location, AllowanceOptions options)
    {
        var builder = new NpgsqlConnectionStringBuilder(location.ConnectionString)
        {
            Timeout = 3,
            CommandTimeout = 3,
            ApplicationName = "pilotage allowances",
        };
        ConnectionString = builder.ConnectionString;
        _source = NpgsqlDataSource.Create(ConnectionString);
        _leaseMilliseconds = (int)options.LeaseTime.TotalMilliseconds;
    }

    public string ConnectionString { get; }

    public Guid Replica { get; } = Guid.NewGuid();

    public async Task<AllowanceAnswer> CallAsync(string key, long window, long limit, AllowanceReport report, CancellationToken ct)
    {
        await using var command = _source.CreateCommand("SELECT granted, used, holders FROM pilotage_allowance($1, $2, $3, $4, $5, $6, $7, $8, $9)");
        command.Parameters.Add(new() { Value = key });
        command.Parameters.Add(new() { Value = window });
        command.Parameters.Add(new() { Value = Replica });
        command.Parameters.Add(new() { Value = limit });
        command.Parameters.Add(new() { Value = report.Lease });
        command.Parameters.Add(new() { Value = report.Consumed });
        command.Parameters.Add(new() { Value = report.Returned });
        command.Parameters.Add(new() { Value = report.Overrun });
        command.Parameters.Add(new() { Value = _leaseMilliseconds });
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2));
    }

    /// <summary>Asks every other replica to give back its slices of one limit now.</summary>
    public async Task RecallAsync(string key, long window, CancellationToken ct)
    {
        await using var command = _source.CreateCommand("SELECT pg_notify($1, $2)");
        command.Parameters.Add(new() { Value = RecallChannel });
        command.Parameters.Add(new() { Value = string.Create(CultureInfo.InvariantCulture, $"{Replica:N} {window} {key}") });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Rows of windows long over (minutes after an hour, days and months after 40 days).</summary>
    public async Task ForgetOldWindowsAsync(long nowSeconds, CancellationToken ct)
    {
        await using (var windows = _source.CreateCommand("DELETE FROM allowances WHERE window_start < $1 - 3456000 OR (limit_key LIKE 'rpm|%' AND window_start < $1 - 3600)"))
        {
            windows.Parameters.Add(new() { Value = nowSeconds });
            await windows.ExecuteNonQueryAsync(ct);
        }
        await using var leases = _source.CreateCommand("DELETE FROM allowance_leases WHERE expires_at < now() - interval '1 hour'");
        await leases.ExecuteNonQueryAsync(ct);
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}
