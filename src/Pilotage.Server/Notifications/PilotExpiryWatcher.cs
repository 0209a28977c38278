using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Lifecycle;
using Pilotage.Server.Storage;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Notifications;

/// <summary>
/// Warns a pilot's owner ahead of its end date (7 days, 1 day) and when it has expired, once per
/// threshold and end date: an audit entry, and a webhook when one is configured. The gateway itself
/// enforces expiry on every request; this makes sure the owner hears about it before users do.
/// </summary>
public sealed class PilotExpiryWatcher(PolicyCache policy, ControlPlane control, PilotageStore store, TimeProvider time, ILogger<PilotExpiryWatcher> logger) : BackgroundService
{
    private static readonly int[] Thresholds = [7, 1, 0];

    public static TimeSpan Interval { get; } = TimeSpan.FromMinutes(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CheckAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Pilot expiry check failed; retrying later: {Reason}", e.Message);
            }
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Records every threshold reached and not yet recorded. Returns how many notices were written.</summary>
    public async Task<int> CheckAsync(CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var written = 0;
        foreach (var system in policy.Current.Systems.Values)
        {
            var state = system.State;
            if (state.Lifecycle.Phase != LifecyclePhase.Pilot || state.PilotEnds is not { } ends) continue;
            var daysLeft = ends.DayNumber - today.DayNumber;
            // The tightest threshold reached is the one to announce; earlier ones are no news any more.
            var threshold = Thresholds.Where(t => daysLeft <= t).DefaultIfEmpty(-1).Min();
            if (threshold < 0) continue;
            var action = daysLeft < 0 ? "pilot.expired" : "pilot.expiring";
            var marker = string.Create(CultureInfo.InvariantCulture, $"\"ends\":\"{ends:yyyy-MM-dd}\",\"threshold\":{(daysLeft < 0 ? -1 : threshold)}");
            await using (var db = store.CreateDbContext())
            {
                var subject = $"system:{state.Slug}";
                if (await db.AuditEntries.AnyAsync(a => a.Subject == subject && a.Action == action && a.After != null && a.After.Contains(marker), ct)) continue;
            }
            var details = new JsonObject
            {
                ["owner"] = state.Spec.Owner,
                ["ends"] = ends.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["threshold"] = daysLeft < 0 ? -1 : threshold,
                ["daysLeft"] = daysLeft,
                ["message"] = daysLeft < 0
                    ? $"the pilot of '{state.Slug}' ended on {ends:yyyy-MM-dd}; the gateway refuses it until {state.Spec.Owner} records a decision"
                    : $"the pilot of '{state.Slug}' ends on {ends:yyyy-MM-dd} ({daysLeft} day(s) left); {state.Spec.Owner} should review the evidence and decide",
            };
            var recorded = await control.ExecuteAsync("pilotage", async command =>
            {
                // Checked again under the control plane's lock: another replica's watcher may have just recorded it.
                var subject = $"system:{state.Slug}";
                if (await command.Db.AuditEntries.AnyAsync(a => a.Subject == subject && a.Action == action && a.After != null && a.After.Contains(marker), ct)) return false;
                command.Audit(action, subject, null, details.ToJsonString());
                return true;
            }, ct);
            if (recorded) written++;
        }
        return written;
    }
}
