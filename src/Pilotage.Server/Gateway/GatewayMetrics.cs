using System.Diagnostics.Metrics;
using System.Diagnostics;

namespace Pilotage.Server.Gateway;

/// <summary>
/// Gateway instruments with the OpenTelemetry GenAI semantic conventions (token usage, operation
/// duration) plus Pilotage's own (refusals by reason, answers by mode). Exported by the
/// OpenTelemetry pipeline of <c>Telemetry.TelemetrySetup</c>; <see cref="Activities"/> is the source of
/// the per-request activities (<see cref="GatewayTracing"/>).
/// </summary>
public sealed class GatewayMetrics : IDisposable
{
    public const string MeterName = "Pilotage.Gateway";
    public static readonly ActivitySource Activities = new(MeterName);

    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

    private readonly Meter _meter;
    private readonly Histogram<long> _tokens;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _refusals;
    private readonly Counter<long> _answers;
    private readonly Counter<long> _failures;

    public GatewayMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        // Bucket boundaries recommended by the GenAI semantic conventions; the SDK defaults (0…10000,
        // meant for milliseconds) would put every duration in seconds into the first buckets.
        _tokens = _meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Tokens used per request, by gen_ai.token.type",
            tags: null, advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        _duration = _meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "Duration of gateway requests that reached the model",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _refusals = _meter.CreateCounter<long>("pilotage.gateway.refusals", "{request}", "Requests refused, by reason");
        _answers = _meter.CreateCounter<long>("pilotage.gateway.answers", "{request}", "Answers released, by system and mode");
        _failures = _meter.CreateCounter<long>("pilotage.gateway.upstream_failures", "{request}", "Upstream faults, by kind");
    }

    public void Served(string system, string mode, string endpoint, int tokensIn, int tokensOut, double seconds, string upstreamModel)
    {
        var operation = endpoint == "chat" ? "chat" : "embeddings";
        var tags = new TagList { { "gen_ai.operation.name", operation }, { "gen_ai.request.model", system }, { "gen_ai.response.model", upstreamModel } };
        _duration.Record(seconds, tags);
        _tokens.Record(tokensIn, new TagList { { "gen_ai.operation.name", operation }, { "gen_ai.request.model", system }, { "gen_ai.token.type", "input" } });
        if (endpoint == "chat") _tokens.Record(tokensOut, new TagList { { "gen_ai.operation.name", operation }, { "gen_ai.request.model", system }, { "gen_ai.token.type", "output" } });
        _answers.Add(1, new TagList { { "pilotage.system", system }, { "pilotage.mode", mode } });
    }

    public void Refused(string reason, string? system)
    {
        _refusals.Add(1, new TagList { { "pilotage.reason", reason }, { "pilotage.system", system ?? "" } });
        GatewayTracing.Refused(reason);
    }

    public void Failed(string? system, string kind) =>
        _failures.Add(1, new TagList { { "pilotage.system", system ?? "" }, { "error.type", kind } });

    public void Dispose() => _meter.Dispose();
}
