using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Pilotage.Server.Gateway;
using Pilotage.Server.Telemetry;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Telemetry;

/// <summary>What operators see: Prometheus text on /metrics, and gateway activities with GenAI attributes and no content.</summary>
public sealed class TelemetryTests
{
    private const string SecretPrompt = "Customer 4711 says the zebra-quartz parcel never arrived";

    [Fact]
    public async Task Metrics_expose_token_usage_by_system_and_refusals_by_reason_without_content()
    {
        await using var h = await GatewayHarness.StartAsync();
        var served = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(SecretPrompt));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        var outsider = h.Server.ClientFor(await h.Server.CreateUserWithKeyAsync("olga@example.org", "member", "sales"));
        var refused = await outsider.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(SecretPrompt));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        // Anonymous, like /healthz: Prometheus scrapes without a key. The writer releases a batch's answers before it
        // records the commit's time, so the scrape is repeated (briefly) until that commit is in it.
        string text;
        string[] lines;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var response = await h.Server.Anonymous.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            text = await response.Content.ReadAsStringAsync();
            lines = text.Split('\n');
            if (lines.Any(DurableCommitCounted) || DateTime.UtcNow >= deadline) break;
            await Task.Delay(50);
        }

        Assert.Contains(lines, l => l.StartsWith("gen_ai_client_token_usage_bucket{", StringComparison.Ordinal)
            && l.Contains("gen_ai_request_model=\"support-drafts\"", StringComparison.Ordinal)
            && l.Contains("gen_ai_token_type=\"input\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("gen_ai_client_token_usage_sum{", StringComparison.Ordinal)
            && l.Contains("gen_ai_token_type=\"output\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("gen_ai_client_operation_duration_seconds_bucket{", StringComparison.Ordinal)
            && l.Contains("gen_ai_response_model=\"fake-model\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("pilotage_gateway_refusals_total{", StringComparison.Ordinal)
            && l.Contains("pilotage_reason=\"not_in_allowed_group\"", StringComparison.Ordinal)
            && l.Contains("pilotage_system=\"support-drafts\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("pilotage_gateway_answers_total{", StringComparison.Ordinal)
            && l.Contains("pilotage_mode=\"draft\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("pilotage_evidence_records_written_total", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("pilotage_evidence_queue_length", StringComparison.Ordinal));
        // The served answer's record was committed durably (the default) before it was released.
        Assert.Contains(lines, DurableCommitCounted);
        Assert.Contains(lines, l => l.StartsWith("pilotage_evidence_commit_duration_seconds_bucket{", StringComparison.Ordinal)
            && l.Contains("le=\"0.0001\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("http_server_request_duration_seconds_bucket{", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("http_client_request_duration_seconds_bucket{", StringComparison.Ordinal));
        // Measured on every request and dropped on purpose (docs/observability.md).
        Assert.DoesNotContain("http_client_active_requests", text, StringComparison.Ordinal);
        Assert.DoesNotContain("http_client_request_time_in_queue", text, StringComparison.Ordinal);
        Assert.DoesNotContain("aspnetcore_routing_match_attempts", text, StringComparison.Ordinal);

        Assert.DoesNotContain("zebra-quartz", text, StringComparison.Ordinal);
        Assert.DoesNotContain(h.MemberKey, text, StringComparison.Ordinal);
        Assert.DoesNotContain("mia@example.org", text, StringComparison.Ordinal);
    }

    private static bool DurableCommitCounted(string line) =>
        line.StartsWith("pilotage_evidence_commit_duration_seconds_count{", StringComparison.Ordinal)
        && line.Contains("pilotage_evidence_durability=\"durable\"", StringComparison.Ordinal)
        && !line.EndsWith(" 0", StringComparison.Ordinal);

    [Fact]
    public async Task A_served_chat_is_one_activity_with_genai_attributes_and_no_content()
    {
        using var recorder = new ActivityRecorder();
        await using var h = await GatewayHarness.StartAsync();

        var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(SecretPrompt));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var activity = await recorder.ForAsync(response);

        Assert.Equal("chat support-drafts", activity.DisplayName);
        Assert.Equal(ActivityKind.Client, activity.Kind);
        Assert.Equal("chat", activity.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("support-drafts", activity.GetTagItem("gen_ai.request.model"));
        Assert.Equal("fake-model", activity.GetTagItem("gen_ai.response.model"));
        Assert.Equal(h.Upstream.PromptTokens, activity.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(h.Upstream.CompletionTokens, activity.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal("draft", activity.GetTagItem("pilotage.mode"));
        Assert.Equal("served", activity.GetTagItem("pilotage.outcome"));
        Assert.NotEqual(ActivityStatusCode.Error, activity.Status);

        // Nothing the caller or the model wrote, and no secret, is ever an attribute.
        foreach (var (key, value) in activity.TagObjects)
        {
            var text = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            Assert.DoesNotContain("zebra-quartz", text, StringComparison.Ordinal);
            Assert.DoesNotContain("refund the order", text, StringComparison.Ordinal);
            Assert.DoesNotContain("You draft polite replies", text, StringComparison.Ordinal);
            Assert.DoesNotContain(h.MemberKey, text, StringComparison.Ordinal);
            Assert.DoesNotContain("mia@example.org", text, StringComparison.Ordinal);
            Assert.False(key.Contains("prompt", StringComparison.OrdinalIgnoreCase) || key.Contains("completion", StringComparison.OrdinalIgnoreCase), key);
        }
    }

    [Fact]
    public async Task Refusals_and_upstream_failures_are_tagged_and_failures_are_errors()
    {
        using var recorder = new ActivityRecorder();
        await using var h = await GatewayHarness.StartAsync();

        var outsider = h.Server.ClientFor(await h.Server.CreateUserWithKeyAsync("olga@example.org", "member", "sales"));
        var refused = await recorder.ForAsync(await outsider.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(SecretPrompt)));
        Assert.Equal("refused", refused.GetTagItem("pilotage.outcome"));
        Assert.Equal("not_in_allowed_group", refused.GetTagItem("pilotage.refusal.code"));
        Assert.Null(refused.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.NotEqual(ActivityStatusCode.Error, refused.Status);

        h.Upstream.Behaviour = UpstreamBehaviour.ServerError;
        var failed = await recorder.ForAsync(await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(SecretPrompt)));
        Assert.Equal("failed", failed.GetTagItem("pilotage.outcome"));
        Assert.Equal("upstream_error", failed.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, failed.Status);

        h.Upstream.Behaviour = UpstreamBehaviour.Answer;
        var embedded = await recorder.ForAsync(await h.Member.PostAsJsonAsync("/v1/embeddings", new { model = GatewayHarness.System, input = SecretPrompt }));
        Assert.Equal("embeddings support-drafts", embedded.DisplayName);
        Assert.Equal("embeddings", embedded.GetTagItem("gen_ai.operation.name"));
    }

    [Fact]
    public void Otlp_is_enabled_only_by_the_standard_endpoint_variables()
    {
        static IConfiguration Config(params (string Key, string Value)[] values) =>
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

        Assert.False(TelemetrySetup.OtlpConfigured(Config(), "TRACES"));
        Assert.False(TelemetrySetup.OtlpConfigured(Config(("OTEL_EXPORTER_OTLP_ENDPOINT", " ")), "TRACES"));
        Assert.True(TelemetrySetup.OtlpConfigured(Config(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")), "TRACES"));
        Assert.True(TelemetrySetup.OtlpConfigured(Config(("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/v1/traces")), "TRACES"));
        Assert.False(TelemetrySetup.OtlpConfigured(Config(("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://collector:4318/v1/metrics")), "TRACES"));
    }

    [Fact]
    public async Task Without_a_collector_there_is_no_tracer_provider()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")))
        {
            return; // this machine configures a collector; the switch itself is covered above
        }
        await using var server = await PilotageTestServer.StartAsync();
        Assert.Null(server.App.Services.GetService<TracerProvider>());
    }

    /// <summary>Listens to the gateway's source for one test; other tests' activities are told apart by interaction id.</summary>
    private sealed class ActivityRecorder : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly ConcurrentDictionary<string, Activity> _stopped = new();

        public ActivityRecorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == GatewayMetrics.MeterName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    if (activity.GetTagItem("pilotage.interaction.id") is string id) _stopped[id] = activity;
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        /// <summary>The activity of the interaction that <paramref name="response"/> answered; it stops just after the response.</summary>
        public async Task<Activity> ForAsync(HttpResponseMessage response)
        {
            var id = response.Headers.GetValues("x-pilotage-interaction-id").Single();
            for (var attempt = 0; attempt < 100; attempt++)
            {
                if (_stopped.TryGetValue(id, out var activity)) return activity;
                await Task.Delay(50);
            }
            throw new InvalidOperationException($"no activity for interaction {id}");
        }

        public void Dispose() => _listener.Dispose();
    }
}
