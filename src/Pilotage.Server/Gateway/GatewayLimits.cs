using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Gateway;
using Pilotage.Core.Specs;
using Pilotage.Server.Gateway.Allowances;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Gateway;

/// <summary>
/// Spending per system and per person, by UTC day and month, updated as answers are costed. On PostgreSQL the
/// budgets are shared by the replicas (<see cref="ClusterAllowances"/>: money leased in slices); on SQLite they
/// are kept in memory, seeded from the evidence on start so a restart does not reset a budget.
/// </summary>
public sealed class BudgetLedger(TimeProvider time, ClusterAllowances cluster)
{
    // Spending in billionths (the roll-ups' unit), added with Interlocked: a decimal cannot be, and a
    // ConcurrentDictionary update of one allocated a node, a closure and four string keys per answer.
    private readonly ConcurrentDictionary<SpendKey, Spend> _spent = new();

    public void Add(string system, long userId, DateTimeOffset at, decimal cost)
    {
        if (cost <= 0) return;
        var nanos = (long)decimal.Round(cost * 1_000_000_000m, MidpointRounding.AwayFromZero);
        if (cluster.Enabled)
        {
            foreach (var (key, window, _) in SharedKeys(system, userId, at)) cluster.Spend(key, window, nanos);
            return;
        }
        var (day, month) = Periods(at);
        foreach (var key in (ReadOnlySpan<SpendKey>)[new(system, null, day), new(system, null, month), new(system, userId, day), new(system, userId, month)])
        {
            Interlocked.Add(ref _spent.GetOrAdd(key, static _ => new Spend()).Nanos, nanos);
        }
    }

    /// <summary>The first limit already reached, as a refusal; null when there is budget left.</summary>
    public ValueTask<GatewayRefusal?> CheckAsync(SystemSpec spec, long userId, string email) =>
        cluster.Enabled ? CheckSharedAsync(spec, userId, email) : ValueTask.FromResult(Check(spec, userId, email));

    /// <summary>Across the replicas: each budget asks that some of its leased money is left.</summary>
    private async ValueTask<GatewayRefusal?> CheckSharedAsync(SystemSpec spec, long userId, string email)
    {
        var limits = spec.Limits;
        if (limits.CostPerDay is null && limits.CostPerMonth is null && limits.CostPerUserPerDay is null && limits.CostPerUserPerMonth is null) return null;
        var keys = SharedKeys(spec.Name, userId, time.GetUtcNow());
        return await Over(0, limits.CostPerDay, $"'{spec.Name}' has used its daily budget", "00:00 UTC tomorrow", "limits.costPerDay")
            ?? await Over(1, limits.CostPerMonth, $"'{spec.Name}' has used its monthly budget", "the first day of next month (UTC)", "limits.costPerMonth")
            ?? await Over(2, limits.CostPerUserPerDay, $"{email} has used their daily budget for '{spec.Name}'", "00:00 UTC tomorrow", "limits.costPerUserPerDay")
            ?? await Over(3, limits.CostPerUserPerMonth, $"{email} has used their monthly budget for '{spec.Name}'", "the first day of next month (UTC)", "limits.costPerUserPerMonth");

        async ValueTask<GatewayRefusal?> Over(int which, decimal? limit, string who, string resets, string field)
        {
            if (limit is not { } max) return null;
            var (key, window, ends) = keys[which];
            var (outcome, used) = await cluster.TakeAsync(key, window, ends, (long)decimal.Round(max * 1_000_000_000m), units: 0);
            return outcome switch
            {
                AllowanceOutcome.Granted => null,
                AllowanceOutcome.Unreachable => new GatewayRefusal(429, "budget_exceeded",
                    $"the limit store (PostgreSQL) is unreachable from this server, so it cannot count against {field} of '{spec.Name}' and refuses until the database answers again; retry shortly, and tell an operator if it lasts."),
                _ => new GatewayRefusal(429, "budget_exceeded",
                    $"{who} ({Money(used / 1_000_000_000m)} of {Money(max)}). It resets at {resets}; until then, continue with the manual process, or ask the owner {spec.Owner} to raise {field}."),
            };
        }
    }

    private static string Money(decimal amount) => amount.ToString("0.####", CultureInfo.InvariantCulture);

    /// <summary>The shared budgets' keys, windows (unix seconds of the period's start) and ends: system day, month; person day, month.</summary>
    private static (string Key, long Window, DateTimeOffset Ends)[] SharedKeys(string system, long userId, DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        var day = new DateTimeOffset(utc.Date, TimeSpan.Zero);
        var month = new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var user = userId.ToString(CultureInfo.InvariantCulture);
        return
        [
            ($"cost-day|{system}", day.ToUnixTimeSeconds(), day.AddDays(1)),
            ($"cost-month|{system}", month.ToUnixTimeSeconds(), month.AddMonths(1)),
            ($"cost-day|{system}|{user}", day.ToUnixTimeSeconds(), day.AddDays(1)),
            ($"cost-month|{system}|{user}", month.ToUnixTimeSeconds(), month.AddMonths(1)),
        ];
    }

    /// <summary>In this process alone (SQLite).</summary>
    internal GatewayRefusal? Check(SystemSpec spec, long userId, string email)
    {
        var limits = spec.Limits;
        if (limits.CostPerDay is null && limits.CostPerMonth is null && limits.CostPerUserPerDay is null && limits.CostPerUserPerMonth is null) return null;
        var (day, month) = Periods(time.GetUtcNow());
        return Over(new(spec.Name, null, day), limits.CostPerDay, $"'{spec.Name}' has used its daily budget", "00:00 UTC tomorrow", "limits.costPerDay")
            ?? Over(new(spec.Name, null, month), limits.CostPerMonth, $"'{spec.Name}' has used its monthly budget", "the first day of next month (UTC)", "limits.costPerMonth")
            ?? Over(new(spec.Name, userId, day), limits.CostPerUserPerDay, $"{email} has used their daily budget for '{spec.Name}'", "00:00 UTC tomorrow", "limits.costPerUserPerDay")
            ?? Over(new(spec.Name, userId, month), limits.CostPerUserPerMonth, $"{email} has used their monthly budget for '{spec.Name}'", "the first day of next month (UTC)", "limits.costPerUserPerMonth");

        GatewayRefusal? Over(SpendKey key, decimal? limit, string who, string resets, string field)
        {
            if (limit is not { } max) return null;
            var spent = _spent.TryGetValue(key, out var spend) ? Interlocked.Read(ref spend.Nanos) / 1_000_000_000m : 0m;
            return spent < max ? null : new GatewayRefusal(429, "budget_exceeded",
                $"{who} ({spent.ToString("0.####", CultureInfo.InvariantCulture)} of {max.ToString("0.####", CultureInfo.InvariantCulture)}). It resets at {resets}; until then, continue with the manual process, or ask the owner {spec.Owner} to raise {field}.");
        }
    }

    /// <summary>Reads this month's costed evidence back in; ids are time-ordered, so no date parsing is needed.</summary>
    public async Task SeedAsync(PilotageStore store, CancellationToken ct)
    {
        // Shared budgets are counted in the store itself.
        if (cluster.Enabled) return;
        var now = time.GetUtcNow();
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var since = Evidence.InteractionId.Prefix + monthStart.ToUnixTimeMilliseconds().ToString("x12", CultureInfo.InvariantCulture);
        await using var db = store.CreateDbContext();
        var rows = await db.Interactions.AsNoTracking()
            .Where(i => string.Compare(i.Id, since) >= 0 && i.Cost > 0)
            .Select(i => new { i.System, i.UserId, i.CreatedAt, i.Cost })
            .ToListAsync(ct);
        foreach (var row in rows) Add(row.System, row.UserId, row.CreatedAt, row.Cost);
    }

    /// <summary>The UTC day (days since 1970) and month (as a negative number, so the two never meet) of an instant.</summary>
    private static (int Day, int Month) Periods(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return ((int)(utc.Ticks / TimeSpan.TicksPerDay), -(utc.Year * 12 + utc.Month));
    }

    /// <summary>A system's spending (<paramref name="UserId"/> null) or one person's, in one day or month.</summary>
    private readonly record struct SpendKey(string System, long? UserId, int Period);

    private sealed class Spend
    {
        public long Nanos;
    }
}

/// <summary>
/// Requests per minute per key and system: on PostgreSQL shared by the replicas in fixed minutes
/// (<see cref="ClusterAllowances"/>); on SQLite with the platform's token buckets.
/// </summary>
public sealed class KeyRateLimits(ClusterAllowances cluster, TimeProvider time) : IDisposable
{
    private readonly ConcurrentDictionary<(string Key, string System, int Limit), RateLimiter> _limiters = new();

    public async ValueTask<GatewayRefusal?> CheckAsync(SystemSpec spec, string keyId)
    {
        if (spec.Limits.RequestsPerMinutePerKey is not { } limit) return null;
        if (!cluster.Enabled) return Check(spec, keyId, limit);
        var now = time.GetUtcNow();
        var minute = now.ToUnixTimeSeconds() / 60 * 60;
        var (outcome, _) = await cluster.TakeAsync($"rpm|{spec.Name}|{keyId}", minute, DateTimeOffset.FromUnixTimeSeconds(minute + 60), limit, units: 1);
        return outcome switch
        {
            AllowanceOutcome.Granted => null,
            AllowanceOutcome.Unreachable => new GatewayRefusal(429, "rate_limited",
                $"the limit store (PostgreSQL) is unreachable from this server, so it cannot count this key's requests against limits.requestsPerMinutePerKey of '{spec.Name}' and refuses until the database answers again; retry shortly, and tell an operator if it lasts."),
            _ => Limited(spec, limit),
        };
    }

    private static GatewayRefusal Limited(SystemSpec spec, int limit) => new(429, "rate_limited",
        $"this key may send {limit} requests a minute to '{spec.Name}'; wait a moment and retry (Retry-After), or ask the owner {spec.Owner} to raise limits.requestsPerMinutePerKey.");

    private GatewayRefusal? Check(SystemSpec spec, string keyId, int limit)
    {
        var limiter = _limiters.GetOrAdd((keyId, spec.Name, limit), static k => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = k.Limit,
            TokensPerPeriod = k.Limit,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
        using var lease = limiter.AttemptAcquire();
        return lease.IsAcquired ? null : Limited(spec, limit);
    }

    public void Dispose()
    {
        foreach (var limiter in _limiters.Values) limiter.Dispose();
    }
}
