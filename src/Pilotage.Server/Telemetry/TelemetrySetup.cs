using System.Reflection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Pilotage.Server.Gateway;

namespace Pilotage.Server.Telemetry;

/// <summary>
/// OpenTelemetry for <c>pilotage serve</c>: metrics always (Prometheus text on <c>/metrics</c>), and
/// OTLP export of metrics and traces only when the standard <c>OTEL_EXPORTER_OTLP_*ENDPOINT</c>
/// variables name a collector. Without one there is no exporter, no tracer provider and no
/// background connection: gateway activities are then never created (see <see cref="GatewayTracing"/>).
/// </summary>
public static class TelemetrySetup
{
    public const string ServiceName = "pilotage";
    public const string MetricsPath = "/metrics";

    /// <summary>Meters exported besides Pilotage's own: the runtime's (built into .NET 9+).</summary>
    private static readonly string[] RuntimeMeters = ["System.Runtime"];

    /// <summary>Paths that are not worth a trace: scrapes and probes.</summary>
    private static readonly string[] Untraced = [MetricsPath, "/healthz", "/readyz"];

    /// <summary>True when a collector is configured for <paramref name="signal"/> (<c>TRACES</c>, <c>METRICS</c>) or for all signals.</summary>
    public static bool OtlpConfigured(IConfiguration configuration, string signal)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
            || !string.IsNullOrWhiteSpace(configuration[$"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"]);
    }

    public static IServiceCollection AddPilotageTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<EvidenceMetrics>();
        var version = typeof(TelemetrySetup).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        var otel = services.AddOpenTelemetry()
            // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, win over the defaults.
            .ConfigureResource(r => r.AddService(ServiceName, serviceVersion: version).AddEnvironmentVariableDetector())
            .WithMetrics(metrics =>
            {
                metrics
                    .AddMeter(GatewayMetrics.MeterName, EvidenceMetrics.MeterName)
                    .AddMeter(RuntimeMeters)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    // Recorded on every gateway request, and told nothing the gateway's own figures do not: the
                    // upstream calls in flight and their wait for a pooled connection (the gateway's limits and
                    // http.client.request.duration say it), and the route matches. Dropped instruments are not
                    // listened to at all, which took a third of the metric measurements off each request.
                    .AddView("http.client.active_requests", MetricStreamConfiguration.Drop)
                    .AddView("http.client.request.time_in_queue", MetricStreamConfiguration.Drop)
                    .AddView("aspnetcore.routing.match_attempts", MetricStreamConfiguration.Drop)
                    // Created with the provider, so its observable instruments exist from the start.
                    .AddInstrumentation(sp => sp.GetRequiredService<EvidenceMetrics>())
                    .AddPrometheusExporter();
                if (OtlpConfigured(configuration, "METRICS")) metrics.AddOtlpExporter();
            });
        if (OtlpConfigured(configuration, "TRACES"))
        {
            otel.WithTracing(tracing => tracing
                .AddSource(GatewayMetrics.MeterName)
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !Untraced.Contains(http.Request.Path.Value, StringComparer.OrdinalIgnoreCase))
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());
        }
        return services;
    }

    /// <summary>
    /// Maps <c>/metrics</c> (Prometheus text format). Anonymous like <c>/healthz</c>: it carries counts
    /// and system names, no content or identities; keep it on an internal network all the same.
    /// </summary>
    public static IEndpointConventionBuilder MapPilotageTelemetry(this IEndpointRouteBuilder app) =>
        app.MapPrometheusScrapingEndpoint(MetricsPath).AllowAnonymous();
}
