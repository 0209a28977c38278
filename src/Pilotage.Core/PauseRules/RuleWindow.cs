using Pilotage.Core.Evidence;
using Pilotage.Core.Specs;

namespace Pilotage.Core.PauseRules;

/// <summary>The evidence a window holds right now.</summary>
/// <param name="Samples">Relevant samples in the window (reviews, requests or incidents).</param>
/// <param name="Full">A count window holds its N samples; a time window always counts as full (see <see cref="RuleEvaluator"/> for its minimum sample).</param>
/// <param name="Days">The window's span in days (cost per day); for a count window, the span its samples cover.</param>
/// <param name="LatencyBuckets">Answers per latency bucket (<see cref="LatencyHistogram"/>), for latency percentiles.</param>
public sealed record RuleWindowState(EvidenceTotals Totals, IReadOnlyDictionary<string, long> IncidentsBySeverity, long Samples, bool Full, double Days,
    IReadOnlyList<long> LatencyBuckets);

/// <summary>
/// The evidence one pause rule needs, kept incrementally as events arrive: a count window keeps its
/// last N samples in a ring buffer, a time window keeps per-minute buckets that are dropped as they
/// age. Either keeps a running sum, so reading the window costs nothing. Not thread-safe: one owner.
/// </summary>
public abstract class RuleWindow
{
    protected RuleWindow(RuleSampleKind kind, bool answersOnly)
    {
        Kind = kind;
        AnswersOnly = answersOnly;
    }

    public RuleSampleKind Kind { get; }

    /// <summary>Only answered requests (served or held) count: the samples of a latency percentile.</summary>
    public bool AnswersOnly { get; }

    /// <summary>A window for <paramref name="rule"/>, or null when its metric cannot be watched (see <see cref="RuleMetrics.Unsupported"/>).</summary>
    public static RuleWindow? For(PauseRuleSpec rule)
    {
        if (!RuleMetrics.IsSupported(rule)) return null;
        var kind = RuleMetrics.KindOf(rule.Metric)!.Value;
        var answers = RuleMetrics.IsLatency(rule.Metric);
        return rule.Over is { } over ? new CountWindow(kind, over, answers) : new TimeWindow(kind, RuleMetrics.SpanOf(rule), answers);
    }

    /// <summary>Takes the event if it is of this window's kind; returns whether the window changed.</summary>
    public bool Add(RuleEvent e) => e.Kind == Kind && (!AnswersOnly || e.LatencyBucket is not null) && Accept(e);

    protected static void AddLatency(long[] buckets, int? bucket, int sign)
    {
        if (bucket is { } b && b >= 0 && b < buckets.Length) buckets[b] += sign;
    }

    protected static long[] NewLatency() => new long[LatencyHistogram.Bounds.Count];

    protected abstract bool Accept(RuleEvent e);

    /// <summary>The window's current totals as of <paramref name="now"/> (a time window first drops what aged out).</summary>
    public abstract RuleWindowState Current(DateTimeOffset now);

    /// <summary>Forgets everything: the window starts again (after a person resumes the system).</summary>
    public abstract void Reset();

    protected static void AddIncident(Dictionary<string, long> counts, string? severity, int sign)
    {
        if (severity is null) return;
        var next = counts.GetValueOrDefault(severity) + sign;
        if (next == 0) counts.Remove(severity);
        else counts[severity] = next;
    }
}

/// <summary>The last N samples: a ring buffer with a running sum.</summary>
public sealed class CountWindow : RuleWindow
{
    private readonly Sample?[] _ring;
    private readonly EvidenceTotals _sum = new();
    private readonly Dictionary<string, long> _incidents = new(StringComparer.Ordinal);
    private readonly long[] _latency = NewLatency();
    private int _next;
    private int _count;

    public CountWindow(RuleSampleKind kind, int size, bool answersOnly = false) : base(kind, answersOnly)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        _ring = new Sample?[size];
    }

    public int Size => _ring.Length;

    protected override bool Accept(RuleEvent e)
    {
        if (e.Key is not null)
        {
            // A newer review of an interaction still in the window replaces the older one in place.
            for (var i = 0; i < _ring.Length; i++)
            {
                if (_ring[i] is { } old && old.Key == e.Key)
                {
                    _sum.Add(old.Totals, -1);
                    _sum.Add(e.Totals);
                    _ring[i] = old with { Totals = e.Totals };
                    return true;
                }
            }
            if (e.Replaces) return false;
        }
        if (_ring[_next] is { } evicted)
        {
            _sum.Add(evicted.Totals, -1);
            AddIncident(_incidents, evicted.Severity, -1);
            AddLatency(_latency, evicted.LatencyBucket, -1);
        }
        else
        {
            _count++;
        }
        _ring[_next] = new Sample(e.Key, e.Totals, e.Severity, e.At, e.LatencyBucket);
        _sum.Add(e.Totals);
        AddIncident(_incidents, e.Severity, 1);
        AddLatency(_latency, e.LatencyBucket, 1);
        _next = (_next + 1) % _ring.Length;
        return true;
    }

    public override RuleWindowState Current(DateTimeOffset now)
    {
        var totals = new EvidenceTotals();
        totals.Add(_sum);
        var oldest = _count == 0 ? now : _ring.Where(s => s is not null).Min(s => s!.At);
        var days = Math.Max((now - oldest).TotalDays, 1.0 / 24);
        return new RuleWindowState(totals, new Dictionary<string, long>(_incidents), _count, _count >= _ring.Length, days, [.. _latency]);
    }

    public override void Reset()
    {
        Array.Clear(_ring);
        _sum.Add(_sum, -1);
        _incidents.Clear();
        Array.Clear(_latency);
        _next = 0;
        _count = 0;
    }

    private sealed record Sample(string? Key, EvidenceTotals Totals, string? Severity, DateTimeOffset At, int? LatencyBucket);
}

/// <summary>A time span as per-minute buckets dropped as they age, with a running sum.</summary>
public sealed class TimeWindow : RuleWindow
{
    private readonly long _minutes;
    private readonly SortedDictionary<long, Bucket> _buckets = [];
    private readonly Dictionary<string, (long Minute, EvidenceTotals Totals)> _keyed = new(StringComparer.Ordinal);
    private readonly EvidenceTotals _sum = new();
    private readonly Dictionary<string, long> _incidents = new(StringComparer.Ordinal);
    private readonly long[] _latency = NewLatency();
    private long _samples;
    private long _latest = long.MinValue;

    public TimeWindow(RuleSampleKind kind, TimeSpan span, bool answersOnly = false) : base(kind, answersOnly)
    {
        _minutes = Math.Max(1, (long)Math.Ceiling(span.TotalMinutes));
        Span = TimeSpan.FromMinutes(_minutes);
    }

    public TimeSpan Span { get; }

    /// <summary>Buckets held now (at most one per minute of the span).</summary>
    public int BucketCount => _buckets.Count;

    private static long MinuteOf(DateTimeOffset at) => at.ToUnixTimeSeconds() / 60;

    protected override bool Accept(RuleEvent e)
    {
        var minute = MinuteOf(e.At);
        _latest = Math.Max(_latest, minute);
        Expire(_latest);
        if (minute <= _latest - _minutes) return false; // already too old for the window
        if (e.Replaces && (e.Key is null || !_keyed.ContainsKey(e.Key))) return false;
        if (e.Key is not null && _keyed.Remove(e.Key, out var old))
        {
            // A newer review of the same interaction replaces the older one.
            if (_buckets.TryGetValue(old.Minute, out var oldBucket))
            {
                oldBucket.Totals.Add(old.Totals, -1);
                oldBucket.Samples--;
                oldBucket.Keys.Remove(e.Key);
                _sum.Add(old.Totals, -1);
                _samples--;
            }
        }
        if (!_buckets.TryGetValue(minute, out var bucket)) _buckets[minute] = bucket = new Bucket();
        bucket.Totals.Add(e.Totals);
        bucket.Samples++;
        AddIncident(bucket.Incidents, e.Severity, 1);
        if (e.LatencyBucket is not null) AddLatency(bucket.Latency ??= NewLatency(), e.LatencyBucket, 1);
        AddLatency(_latency, e.LatencyBucket, 1);
        if (e.Key is not null)
        {
            bucket.Keys.Add(e.Key);
            _keyed[e.Key] = (minute, e.Totals);
        }
        _sum.Add(e.Totals);
        AddIncident(_incidents, e.Severity, 1);
        _samples++;
        return true;
    }

    /// <summary>Adds pre-summed totals (an hourly roll-up when seeding) at <paramref name="at"/>, with its answers per latency bucket.</summary>
    public void AddTotals(DateTimeOffset at, EvidenceTotals totals, long samples, IReadOnlyList<long>? latency = null)
    {
        var minute = MinuteOf(at);
        if (!_buckets.TryGetValue(minute, out var bucket)) _buckets[minute] = bucket = new Bucket();
        bucket.Totals.Add(totals);
        bucket.Samples += samples;
        _sum.Add(totals);
        _samples += samples;
        if (latency is null) return;
        bucket.Latency ??= NewLatency();
        for (var i = 0; i < latency.Count && i < _latency.Length; i++)
        {
            bucket.Latency[i] += latency[i];
            _latency[i] += latency[i];
        }
    }

    private void Expire(long nowMinute)
    {
        while (_buckets.Count > 0)
        {
            var (minute, bucket) = _buckets.First();
            if (minute > nowMinute - _minutes) break;
            _buckets.Remove(minute);
            _sum.Add(bucket.Totals, -1);
            _samples -= bucket.Samples;
            foreach (var (severity, count) in bucket.Incidents)
            {
                for (var i = 0; i < count; i++) AddIncident(_incidents, severity, -1);
            }
            for (var i = 0; bucket.Latency is not null && i < _latency.Length; i++) _latency[i] -= bucket.Latency[i];
            foreach (var key in bucket.Keys) _keyed.Remove(key);
        }
    }

    public override RuleWindowState Current(DateTimeOffset now)
    {
        _latest = Math.Max(_latest, MinuteOf(now));
        Expire(_latest);
        var totals = new EvidenceTotals();
        totals.Add(_sum);
        return new RuleWindowState(totals, new Dictionary<string, long>(_incidents), _samples, Full: true, Span.TotalDays, [.. _latency]);
    }

    public override void Reset()
    {
        _buckets.Clear();
        _keyed.Clear();
        _sum.Add(_sum, -1);
        _incidents.Clear();
        Array.Clear(_latency);
        _samples = 0;
    }

    private sealed class Bucket
    {
        public EvidenceTotals Totals { get; } = new();
        public long Samples { get; set; }
        /// <summary>Answers per latency bucket; allocated only for windows that see answers.</summary>
        public long[]? Latency { get; set; }
        public Dictionary<string, long> Incidents { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
    }
}
