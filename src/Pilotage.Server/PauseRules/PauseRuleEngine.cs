using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Evidence;
using Pilotage.Core.Incidents;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.PauseRules;
using Pilotage.Core.Specs;
using Pilotage.Server.Evidence;
using Pilotage.Server.Reviews;
using Pilotage.Server.Storage;
using Pilotage.Server.Policy;

namespace Pilotage.Server.PauseRules;

/// <summary>
/// Evaluates every system's pause rules incrementally, as evidence commits: one window per (system,
/// rule) fed from the <see cref="PauseRuleFeed"/> by a single background loop, never a scan of raw
/// data. When a rule fires for a serving system, one control-plane command applies its action and
/// records <c>system.rule_fired</c>; the command refreshes the gateway's snapshot before it returns,
/// so the next request obeys it. See docs/pause-rules.md for the semantics.
/// </summary>
public sealed class PauseRuleEngine(PauseRuleFeed feed, PilotageStore store, PolicyCache policy, IServiceProvider services, TimeProvider time,
    ILogger<PauseRuleEngine> logger) : BackgroundService
{
    // Touched only by the loop (and by SeedAsync before the loop starts).
    private readonly Dictionary<string, SystemRules> _systems = new(StringComparer.Ordinal);
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _seeding = new(1, 1);
    private long _auditSeen = -1;
    private bool _seeded;
    private long _processed;

    /// <summary>Feed items processed so far (tests wait on it).</summary>
    public long Processed => Interlocked.Read(ref _processed);

    /// <summary>
    /// Builds every serving system's windows from the store with bounded queries: the last N reviews or
    /// requests of each count window, the hourly roll-ups of each time window, the recent incidents;
    /// only evidence since the system entered its current lifecycle position counts.
    /// </summary>
    public async Task SeedAsync(CancellationToken ct)
    {
        await _seeding.WaitAsync(ct);
        try
        {
            if (_seeded) return;
            await using var db = store.CreateDbContext();
            _auditSeen = await db.AuditHead.AsNoTracking().Select(h => h.Sequence).FirstOrDefaultAsync(ct);
            var rows = await db.Systems.AsNoTracking().Select(s => new { s.Slug, s.PhaseSince, s.CreatedAt }).ToListAsync(ct);
            var since = rows.ToDictionary(r => r.Slug, r => r.PhaseSince ?? r.CreatedAt, StringComparer.Ordinal);
            foreach (var (slug, system) in policy.Current.Systems)
            {
                var state = Sync(slug, system, time.GetUtcNow());
                if (state is null || !IsServing(system.State.Lifecycle.Phase)) continue;
                state.EpochStart = since.GetValueOrDefault(slug, DateTimeOffset.MinValue);
                await SeedSystemAsync(db, state, ct);
            }
            _seeded = true;
        }
        finally
        {
            _seeding.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The store may be unreachable at start (an outage): keep trying to seed instead of failing the
        // host, which would take the gateway and the kill switch down with it.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await SeedAsync(stoppingToken);
                break;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // any failure to read the store is retried
            catch (Exception e)
#pragma warning restore CA1031
            {
                logger.LogWarning("Pause rules: seeding from the store failed (attempt {Attempt}); retrying: {Reason}", attempt, e.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt * 2)), time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        var reader = feed.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                while (reader.TryRead(out var item))
                {
                    try
                    {
                        await ProcessAsync(item, stoppingToken);
                    }
                    catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                    {
                        return;
                    }
#pragma warning disable CA1031 // A failing evaluation must not stop the engine; the next evidence is evaluated again.
                    catch (Exception e)
#pragma warning restore CA1031
                    {
                        logger.LogError(e, "Pause rules: processing committed evidence failed");
                    }
                    Interlocked.Increment(ref _processed);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ProcessAsync(FeedItem item, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var touched = new HashSet<string>(StringComparer.Ordinal);
        if (item.Interactions is { } samples)
        {
            foreach (var s in samples)
            {
                if (State(s.System, now) is not { } state || s.At < state.EpochStart) continue;
                var e = RuleEvent.Interaction(s.At, s.Outcome, s.RefusalCode, s.TokensIn, s.TokensOut, s.Cost, s.TotalMs);
                if (Feed(state, e)) touched.Add(s.System);
            }
        }
        else if (item.ReviewId is { } id)
        {
            await using var db = store.CreateDbContext();
            var review = await db.Reviews.AsNoTracking().SingleOrDefaultAsync(r => r.InteractionId == id, ct);
            if (review is not null && State(review.System, now) is { } state && review.ReviewedAt >= state.EpochStart
                && state.Rules.Any(r => r.Window?.Kind == RuleSampleKind.Review))
            {
                var interaction = await db.Interactions.AsNoTracking().Where(i => i.Id == id).Select(i => new { i.Endpoint, i.EvalRun }).SingleOrDefaultAsync(ct);
                if (interaction is not null && interaction.Endpoint != InteractionEndpointNames.Manual && interaction.EvalRun is null && Feed(state, ReviewEvent(review, item.ReviewStatus == ReceiptStatuses.Replaced)))
                {
                    touched.Add(review.System);
                }
            }
        }
        else
        {
            // A control-plane change: follow specs and lifecycles, then pick up incidents filed since.
            foreach (var (slug, system) in policy.Current.Systems) Sync(slug, system, now);
            foreach (var gone in _systems.Keys.Where(k => !policy.Current.Systems.ContainsKey(k)).ToList()) _systems.Remove(gone);
            foreach (var slug in await NewIncidentsAsync(now, ct)) touched.Add(slug);
        }
        foreach (var slug in touched) await EvaluateAsync(slug, ct);
    }

    private static bool Feed(SystemRules state, RuleEvent e)
    {
        var changed = false;
        foreach (var rule in state.Rules) changed |= rule.Window?.Add(e) == true;
        return changed;
    }

    private static RuleEvent ReviewEvent(ReviewRow review, bool replaces) =>
        RuleEvent.Review(review.ReviewedAt, review.InteractionId, ReviewRules.OutcomeOf(review.Outcome), ReviewRules.ParseTags(review.Tags),
            review.Seconds, review.Rework, review.ReworkSeconds, replaces);

    private SystemRules? State(string slug, DateTimeOffset now) =>
        _systems.TryGetValue(slug, out var state) ? state
        : policy.Current.Systems.TryGetValue(slug, out var system) ? Sync(slug, system, now) : null;

    /// <summary>
    /// Follows the snapshot: rules whose canonical form changed get a new, empty window; a new lifecycle
    /// position or config version (a person resumed, expanded, changed the config; a rollback) empties
    /// every window and re-arms every rule.
    /// </summary>
    private SystemRules? Sync(string slug, GatewaySystem system, DateTimeOffset now)
    {
        var spec = system.State.Spec;
        var epoch = (system.State.Lifecycle.Phase, system.State.Lifecycle.Stage, system.State.ConfigVersion);
        if (spec.PauseRules.Count == 0)
        {
            _systems.Remove(slug);
            return null;
        }
        if (!_systems.TryGetValue(slug, out var state))
        {
            state = new SystemRules(slug) { Epoch = epoch, EpochStart = now };
            _systems[slug] = state;
        }
        else if (state.Epoch != epoch)
        {
            state.Epoch = epoch;
            state.EpochStart = now;
            foreach (var rule in state.Rules)
            {
                rule.Window?.Reset();
                rule.Arm(now);
            }
        }
        if (!state.Rules.Select(r => r.Rule).SequenceEqual(spec.PauseRules))
        {
            var old = state.Rules.ToList();
            state.Rules = spec.PauseRules.Select((rule, index) =>
                Keep(old, rule, index) ?? new RuleState(rule, index, RuleWindow.For(rule)) { ArmedAt = now }).ToList();
            foreach (var rule in state.Rules.Where(r => r.Window is null))
            {
                if (_warned.Add($"{slug}#{rule.Rule}")) logger.LogWarning("Pause rule {Index} of {System} is not evaluated: {Why}", rule.Index, slug, RuleMetrics.Unsupported(rule.Rule));
            }
        }
        return state;
    }

    private static RuleState? Keep(List<RuleState> old, PauseRuleSpec rule, int index)
    {
        // Records compare by value: an unchanged rule keeps its window and its armed state.
        var kept = old.FirstOrDefault(o => o.Rule == rule);
        if (kept is null) return null;
        old.Remove(kept);
        kept.Index = index;
        return kept;
    }

    private static bool IsServing(LifecyclePhase phase) => phase is LifecyclePhase.Pilot or LifecyclePhase.Rollout or LifecyclePhase.Production;

    private async Task EvaluateAsync(string slug, CancellationToken ct)
    {
        if (!_systems.TryGetValue(slug, out var state) || !policy.Current.Systems.TryGetValue(slug, out var system)) return;
        if (!IsServing(system.State.Lifecycle.Phase)) return;
        var now = time.GetUtcNow();
        foreach (var rule in state.Rules)
        {
            if (rule.Window is null) continue;
            var check = RuleEvaluator.Check(rule.Rule, rule.Window.Current(now));
            if (!check.Fired)
            {
                // A notify rule re-arms once the figure is back within bounds; the others wait for a person.
                if (rule.Rule.Action == PauseAction.Notify && check.Figure is not null) rule.Arm(now);
                continue;
            }
            if (!rule.Armed) continue;
            rule.Armed = false;
            // The guard makes the firing once per deployment: another replica that saw the same evidence
            // (or a person) may have acted since this replica's snapshot was taken.
            var seen = system.State;
            var guard = new FireGuard(seen.Lifecycle.Phase, seen.Lifecycle.Stage, seen.ConfigVersion, rule.ArmedAt);
            var outcome = await PauseRuleActions.FireAsync(services.GetRequiredService<ControlPlane>(), slug, rule.Rule, rule.Index, check, ct, guard);
            logger.LogWarning("Pause rule {Index} of {System} fired: {Sentence}; {Outcome}", rule.Index, slug, check.Sentence, outcome);
            if (outcome.StopsServing) return;
            if (outcome.ConfigChanged)
            {
                // The rollback's own new config version: fresh windows, but this rule waits for a person.
                var after = policy.Current.Systems.TryGetValue(slug, out var now2) ? now2 : null;
                if (after is not null) Sync(slug, after, time.GetUtcNow());
                rule.Armed = false;
                foreach (var other in state.Rules.Where(r => r != rule)) other.Arm(time.GetUtcNow());
                return;
            }
        }
    }

    // ---- seeding ----------------------------------------------------------------------------------

    private async Task SeedSystemAsync(PilotageDbContext db, SystemRules state, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var slug = state.Slug;
        var counts = state.Rules.Where(r => r.Window is CountWindow).ToList();
        var reviewN = counts.Where(r => r.Window!.Kind == RuleSampleKind.Review).Select(r => ((CountWindow)r.Window!).Size).DefaultIfEmpty(0).Max();
        var interactionN = counts.Where(r => r.Window!.Kind == RuleSampleKind.Interaction).Select(r => ((CountWindow)r.Window!).Size).DefaultIfEmpty(0).Max();
        if (reviewN > 0)
        {
            // Indexed on reviews.system; newest first, at most N rows.
            var reviews = await db.Reviews.FromSqlInterpolated(
                    $"SELECT r.* FROM reviews r JOIN interactions i ON i.id = r.interaction_id WHERE r.system = {slug} AND i.endpoint <> 'manual' AND i.eval_run IS NULL ORDER BY r.reviewed_at DESC LIMIT {reviewN}")
                .AsNoTracking().ToListAsync(ct);
            foreach (var review in reviews.Where(r => r.ReviewedAt >= state.EpochStart).OrderBy(r => r.ReviewedAt))
            {
                var e = ReviewEvent(review, replaces: false);
                foreach (var rule in counts.Where(r => r.Window!.Kind == RuleSampleKind.Review)) rule.Window!.Add(e);
            }
        }
        if (interactionN > 0)
        {
            // The (system, created_at) index read backwards: the last N requests.
            var rows = await db.Interactions.FromSqlInterpolated(
                    $"SELECT * FROM interactions WHERE system = {slug} AND endpoint <> 'manual' AND eval_run IS NULL ORDER BY created_at DESC LIMIT {interactionN}")
                .AsNoTracking().Select(i => new { i.CreatedAt, i.Outcome, i.RefusalCode, i.TokensIn, i.TokensOut, i.Cost, i.TotalMs }).ToListAsync(ct);
            foreach (var i in rows.Where(r => r.CreatedAt >= state.EpochStart).OrderBy(r => r.CreatedAt))
            {
                var e = RuleEvent.Interaction(i.CreatedAt, i.Outcome, i.RefusalCode, i.TokensIn, i.TokensOut, i.Cost, i.TotalMs);
                foreach (var rule in counts.Where(r => r.Window!.Kind == RuleSampleKind.Interaction)) rule.Window!.Add(e);
            }
        }
        var times = state.Rules.Where(r => r.Window is TimeWindow { Kind: RuleSampleKind.Review or RuleSampleKind.Interaction }).ToList();
        if (times.Count > 0)
        {
            var longest = times.Max(r => ((TimeWindow)r.Window!).Span);
            var fromHour = RollupKey.HourOf(Max(now - longest, state.EpochStart));
            var rollups = await db.Rollups.AsNoTracking().Where(r => r.System == slug && r.Kind == RollupKinds.Ai && r.Hour >= fromHour).ToListAsync(ct);
            // Latency windows count answers per bucket, which the roll-ups keep apart: read them only when one needs them.
            var latency = !times.Any(r => r.Window!.AnswersOnly) ? []
                : await db.RollupLatency.AsNoTracking().Where(r => r.System == slug && r.Kind == RollupKinds.Ai && r.Hour >= fromHour)
                    .Select(r => new { r.Hour, r.Bucket, r.Count }).ToListAsync(ct);
            foreach (var rule in times)
            {
                var window = (TimeWindow)rule.Window!;
                var start = Max(now - window.Span, state.EpochStart);
                if (window.AnswersOnly)
                {
                    foreach (var hour in latency.Where(r => (r.Hour + 1) * 3600 > start.ToUnixTimeSeconds()).GroupBy(r => r.Hour))
                    {
                        var buckets = new long[LatencyHistogram.Bounds.Count];
                        foreach (var b in hour.Where(b => b.Bucket >= 0 && b.Bucket < buckets.Length)) buckets[b.Bucket] += b.Count;
                        var at = Max(DateTimeOffset.FromUnixTimeSeconds(hour.Key * 3600), start);
                        window.AddTotals(at, new EvidenceTotals(), buckets.Sum(), buckets);
                    }
                    continue;
                }
                foreach (var row in rollups.Where(r => (r.Hour + 1) * 3600 > start.ToUnixTimeSeconds()))
                {
                    var totals = RollupWriter.ToTotals(row);
                    var at = Max(DateTimeOffset.FromUnixTimeSeconds(row.Hour * 3600), start);
                    window.AddTotals(at, totals, window.Kind == RuleSampleKind.Review ? totals.Reviewed : totals.Requests);
                }
            }
        }
        var filed = state.Rules.Where(r => r.Window?.Kind is RuleSampleKind.Incident or RuleSampleKind.Complaint).ToList();
        if (filed.Count > 0)
        {
            var (incident, complaint) = (IncidentKind.Incident.ToName(), IncidentKind.Complaint.ToName());
            var recent = await db.Incidents.AsNoTracking().Where(i => i.System == slug && (i.Kind == incident || i.Kind == complaint)).OrderByDescending(i => i.Id).Take(1000)
                .Select(i => new { i.ReportedAt, i.Severity, i.Kind }).ToListAsync(ct);
            foreach (var filing in recent.Where(i => i.ReportedAt >= state.EpochStart).OrderBy(i => i.ReportedAt))
            {
                var e = filing.Kind == complaint ? RuleEvent.Complaint(filing.ReportedAt) : RuleEvent.Incident(filing.ReportedAt, filing.Severity);
                foreach (var rule in filed) rule.Window!.Add(e);
            }
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>Incidents and complaints filed since the last look, read from the audit trail's tail (its primary key).</summary>
    private async Task<IReadOnlyCollection<string>> NewIncidentsAsync(DateTimeOffset now, CancellationToken ct)
    {
        var touched = new HashSet<string>(StringComparer.Ordinal);
        if (_systems.Count == 0 && _auditSeen >= 0)
        {
            // Nobody watches incidents: only move the mark.
            await using var quick = store.CreateDbContext();
            _auditSeen = await quick.AuditHead.AsNoTracking().Select(h => h.Sequence).FirstOrDefaultAsync(ct);
            return touched;
        }
        await using var db = store.CreateDbContext();
        var head = await db.AuditHead.AsNoTracking().Select(h => h.Sequence).FirstOrDefaultAsync(ct);
        var from = _auditSeen;
        _auditSeen = head;
        if (from < 0 || head <= from) return touched;
        var filed = await db.AuditEntries.AsNoTracking().Where(a => a.Sequence > from && a.Sequence <= head && a.Action == "incident.filed")
            .Select(a => a.After).ToListAsync(ct);
        foreach (var after in filed)
        {
            if (after is null) continue;
            using var doc = JsonDocument.Parse(after);
            var root = doc.RootElement;
            if (!SpecEnum.TryParse<IncidentKind>(root.GetProperty("kind").GetString(), out var kind) || kind is not (IncidentKind.Incident or IncidentKind.Complaint)) continue;
            var slug = root.GetProperty("system").GetString()!;
            if (State(slug, now) is not { } state) continue;
            var at = root.GetProperty("reportedAt").GetDateTimeOffset();
            var e = kind == IncidentKind.Complaint ? RuleEvent.Complaint(at) : RuleEvent.Incident(at, root.GetProperty("severity").GetString()!);
            if (e.At >= state.EpochStart && Feed(state, e)) touched.Add(slug);
        }
        return touched;
    }

    public override void Dispose()
    {
        _seeding.Dispose();
        base.Dispose();
    }

    private sealed class SystemRules(string slug)
    {
        public string Slug { get; } = slug;
        public (LifecyclePhase Phase, int Stage, int ConfigVersion) Epoch { get; set; }
        /// <summary>Evidence older than this belongs to an earlier lifecycle position or config and does not count.</summary>
        public DateTimeOffset EpochStart { get; set; }
        public List<RuleState> Rules { get; set; } = [];
    }

    private sealed class RuleState(PauseRuleSpec rule, int index, RuleWindow? window)
    {
        public PauseRuleSpec Rule { get; } = rule;
        public int Index { get; set; } = index;
        public RuleWindow? Window { get; } = window;
        /// <summary>False once fired, until a person acts (or, for notify, until the figure is back within bounds).</summary>
        public bool Armed { get; set; } = true;

        /// <summary>When the rule was last armed: a firing of it recorded since then (by any replica) is this crossing's.</summary>
        public DateTimeOffset ArmedAt { get; set; }

        public void Arm(DateTimeOffset now)
        {
            if (Armed) return;
            Armed = true;
            ArmedAt = now;
        }
    }

    internal static JsonObject RuleJson(PauseRuleSpec rule) => new()
    {
        ["metric"] = rule.Metric,
        ["over"] = rule.Over,
        ["window"] = rule.Window,
        ["above"] = rule.Above,
        ["below"] = rule.Below,
        ["action"] = SpecEnum.ToName(rule.Action),
        ["to"] = rule.To,
    };
}
