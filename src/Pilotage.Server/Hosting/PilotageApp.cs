using System.Runtime;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Audit;
using Pilotage.Server.Evidence;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Gateway;
using Pilotage.Server.Health;
using Pilotage.Server.Incidents;
using Pilotage.Server.Keys;
using Pilotage.Server.People;
using Pilotage.Server.Pilots;
using Pilotage.Server.Policy;
using Pilotage.Server.Reviews;
using Pilotage.Server.Storage;
using Pilotage.Server.Systems;
using Pilotage.Server.Telemetry;

namespace Pilotage.Server.Hosting;

/// <summary>Builds and starts the one process that hosts the control API (and, later, the gateway and dashboard).</summary>
public static class PilotageApp
{
    /// <summary>The largest request body any endpoint accepts; endpoints narrow it further.</summary>
    public const long MaxRequestBodyBytes = RequestLimits.MaxBodyBytes;

    /// <summary>The argument every host Pilotage starts gets (the demo's simulated model and the benchmarks' servers too).</summary>
    // The host would otherwise watch its content root (the working directory, where pilotage.db lives by
    // default) recursively for appsettings.json changes: one inotify watch per subdirectory of wherever
    // `pilotage serve` was started, and an event to process for every write the store makes to its WAL.
    // Pilotage is configured by its options, not by appsettings.json, so nothing would ever be reloaded.
    public const string NoConfigReload = "--hostBuilder:reloadConfigOnChange=false";

    public static WebApplication Build(PilotageServerOptions options)
    {
        var location = StoreLocation.Parse(options.Database);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [NoConfigReload] });
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
            // Bounded connections: a flood of sockets waits in the OS backlog instead of each costing buffers here.
            // MinRequestBodyDataRate keeps Kestrel's default (240 B/s after 5 s), which ends the slowest senders.
            k.Limits.MaxConcurrentConnections = options.MaxConcurrentConnections;
            k.Limits.MaxConcurrentUpgradedConnections = options.MaxConcurrentUpgradedConnections;
        });
        builder.Logging.SetMinimumLevel(options.LogLevel);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        // With any level of this category on, ASP.NET Core creates an Activity on every request only to give
        // log scopes a trace id, and HttpClient then writes its traceparent into every upstream call. Below
        // Information the category writes nothing an operator reads (its request lines are Information), so
        // it is switched off, as YARP does for the same reason. Tracing (OTLP) still gets its activities
        // from its own listener; --verbose keeps the request lines and their scopes.
        if (options.LogLevel > LogLevel.Information) builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // Data Protection protects only the dashboard cookie; its key ring is in the store without a key
        // encryptor by design (docs/security.md), so the "no key encryptor" start-up warning is noise to operators.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        foreach (var provider in options.LoggerProviders) builder.Logging.AddProvider(provider);

        var services = builder.Services;
        services.AddSingleton(options);
        // Each feature reads options of its own, built here from the host's.
        services.AddSingleton(new PolicyOptions(options.OrphanedSystems));
        services.AddSingleton(new GatewayOptions
        {
            MaxUpstreamInFlight = options.MaxUpstreamInFlight,
            MaxUpstreamInFlightPerSystem = options.MaxUpstreamInFlightPerSystem,
            MaxUpstreamInFlightPerKey = options.MaxUpstreamInFlightPerKey,
            MaxBufferedBytes = options.MaxBufferedBytes,
            DataBoundaryBudget = options.DataBoundaryBudget,
        });
        services.AddSingleton(options.Attention);
        services.AddSingleton(new Evidence.EvidenceOptions { SpoolDirectory = options.SpoolDirectory, InteractionRetentionMonths = options.InteractionRetentionMonths });
        // A background task that fails (the store unreachable, say) logs and retries; it must never stop
        // the host, which would take the gateway and the kill switch down with it.
        services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore);
        services.AddSingleton(options.Time ?? TimeProvider.System);
        services.AddSingleton(location);
        services.AddSingleton<PilotageStore>();
        services.AddSingleton<StartupState>();
        services.AddSingleton<ControlPlane>();
        // PILOTAGE_WEBHOOK_URL / _SECRET / _FORMAT configure notifications when the options do not.
        services.AddSingleton(new Notifications.PilotageServerOptionsAccessor(options.Webhook ?? Notifications.WebhookOptions.FromEnvironment(Environment.GetEnvironmentVariable)));
        // The tree first: it is the log's own structure; the outbox only reports the entry.
        services.AddSingleton<IAuditAppendObserver, Audit.AuditTreeAppender>();
        services.AddSingleton<IAuditAppendObserver, Notifications.WebhookOutbox>();
        services.AddHttpClient(Notifications.WebhookSender.Client);
        services.AddSingleton<Notifications.WebhookSender>();
        services.AddHostedService(sp => sp.GetRequiredService<Notifications.WebhookSender>());
        services.AddSingleton<Notifications.PilotExpiryWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<Notifications.PilotExpiryWatcher>());
        services.AddSingleton<AuditTrail>();
        AuditLogWiring.AddAuditLog(services, options.AuditLog);
        services.AddSingleton<SystemCatalog>();
        services.AddSingleton<Bootstrap>();
        services.AddSingleton<PolicyCache>();
        var oidc = OidcFrom(options, builder.Configuration);
        Identity.IdentityWiring.AddIdentity(services, oidc);
        services.AddSingleton<SystemScope>();
        services.AddSingleton<ICommitObserver>(sp => sp.GetRequiredService<PolicyCache>());
        services.AddEvidenceWriter();
        services.AddSingleton<Gateway.Allowances.ClusterAllowances>();
        services.AddHostedService(sp => sp.GetRequiredService<Gateway.Allowances.ClusterAllowances>());
        services.AddSingleton<BudgetLedger>();
        services.AddSingleton<KeyRateLimits>();
        services.AddSingleton<UpstreamLimits>();
        services.AddSingleton<BufferBudget>();
        services.AddSingleton<ApprovalStore>();
        services.AddSingleton<SystemMetrics>();
        services.AddSingleton<Systems.DecisionEvidence>();
        services.AddSingleton<Reports.EvidenceReportService>();
        services.AddPilotageUseCases();
        services.AddSingleton(options.DirectoryRoles ?? DirectoryRoleMapFrom(builder.Configuration));
        services.AddSingleton<DirectoryRoles>();
        Scim.ScimEndpoints.AddScim(services, options.ScimToken);
        services.AddSingleton<Attention.AttentionService>();
        services.AddSingleton<EvalRunRegistry>();
        services.AddSingleton<GatewayMetrics>();
        services.AddGatewayPipeline();
        services.AddSingleton<GatewayExtras>();
        services.AddSingleton<ReviewService>();
        services.AddSingleton<PauseRules.PauseRuleFeed>();
        services.AddSingleton<ICommitObserver>(sp => sp.GetRequiredService<PauseRules.PauseRuleFeed>());
        services.AddSingleton<PauseRules.PauseRuleEngine>();
        services.AddHostedService(sp => sp.GetRequiredService<PauseRules.PauseRuleEngine>());
        Replicas.ReplicaWiring.AddPilotageReplicas(services);
        services.AddSingleton<Changes.RetentionPurger>();
        services.AddHostedService(sp => sp.GetRequiredService<Changes.RetentionPurger>());
        services.AddSingleton<Evidence.InteractionPartitions>();
        services.AddHostedService(sp => sp.GetRequiredService<Evidence.InteractionPartitions>());
        services.AddPilotageTelemetry(builder.Configuration);
        services.AddSingleton<Upstreams.OwnListeners>();
        services.AddSingleton(sp => UpstreamPolicyFrom(options, builder.Configuration, sp.GetRequiredService<Upstreams.OwnListeners>()));
        services.AddSingleton<Upstreams.UpstreamConnector>();
        services.AddHttpClient(UpstreamForwarder.UpstreamClient, client => client.Timeout = Timeout.InfiniteTimeSpan)
            // Timeouts are per system (first byte, total); the pool is shared by every system's upstream.
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // Every connection is opened here, to an address the upstream policy checked (docs/security.md,
                // "Upstream addresses"). No proxy: through one, the proxy would resolve and dial, unchecked.
                ConnectCallback = sp.GetRequiredService<Upstreams.UpstreamConnector>().ConnectAsync,
                UseProxy = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                ConnectTimeout = TimeSpan.FromSeconds(10),
                // As many connections as calls may be in flight: a lower cap queued the calls beyond it silently,
                // each waiting for a streamed answer to end (docs/scaling.md). Over HTTP/2, streams share connections.
                MaxConnectionsPerServer = Math.Max(1, options.MaxUpstreamInFlight),
                EnableMultipleHttp2Connections = true,
                // One handler serves every caller, so it must keep no state between their calls: cookies an
                // upstream sets (a balancer's affinity cookie, say) would otherwise go out with everyone's
                // next calls. A redirect is reported (upstream_redirect, naming the target), not followed:
                // followed, a POST becomes a GET or loses its Authorization on another host, and fails obscurely.
                UseCookies = false,
                AllowAutoRedirect = false,
                // No AutomaticDecompression: upstream answers are small JSON or an SSE stream the gateway reads
                // as it comes, and an upstream compresses only when asked. Asking would put a decompression
                // handler and an Accept-Encoding header on every call for bytes that mostly cross a LAN.
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // Every upstream call is already an evidence record and a metric; the factory's two logging handlers
            // (a scope and start/end lines per call) cost each request on the hot path and told nothing more.
            .RemoveAllLoggers();

        // Each feature owns the source-generated context of its payloads; the minimal API resolves through all of them.
        services.ConfigureHttpJsonOptions(o =>
        {
            IJsonTypeInfoResolver[] contexts =
            [
                ApiJsonContext.Default, People.PeopleApiJsonContext.Default, Keys.KeysApiJsonContext.Default,
                Audit.AuditApiJsonContext.Default, Systems.SystemsApiJsonContext.Default, Health.HealthApiJsonContext.Default,
                Notifications.NotificationsApiJsonContext.Default, Pilots.PilotsApiJsonContext.Default,
                Evidence.EvidenceApiJsonContext.Default, Attention.AttentionApiJsonContext.Default,
                Reviews.ReviewsApiJsonContext.Default, Incidents.IncidentsApiJsonContext.Default,
                Import.ImportApiJsonContext.Default, Readiness.ReadinessApiJsonContext.Default,
                Reports.ReportsApiJsonContext.Default, Changes.ChangesJsonContext.Default,
            ];
            for (var i = 0; i < contexts.Length; i++) o.SerializerOptions.TypeInfoResolverChain.Insert(i, contexts[i]);
        });
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization(o => o.AddPermissionPolicies());
        services.AddSingleton<IAuthorizationHandler, PermissionHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, PermissionResultHandler>();
        services.AddOpenApi("v1");
        Dashboard.DashboardSetup.AddDashboard(services, oidc);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // Runs before status code pages on the way out: an unknown address a browser asked for gets an HTML page.
        app.UseMiddleware<Dashboard.NotFoundPages>();
        app.UseAuthorization();

        app.MapHealth();
        app.MapPilotageTelemetry();
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapApiReference();
        // Every route naming a system answers 404 to a caller who may not read it (docs/security.md, read scoping).
        var api = app.MapGroup("/api/v1").AddEndpointFilter<RouteGroupBuilder, SystemScopeFilter>();
        api.MapPeople();
        api.MapKeys();
        api.MapSystems();
        api.MapLifecycle();
        api.MapConfigVersions();
        api.MapAudit();
        api.MapApprovals();
        api.MapReviews();
        api.MapEvidenceMetrics();
        api.MapEvals();
        Reports.ReportEndpoints.MapReports(api);
        Readiness.ReadinessEndpoints.MapReadiness(api);
        Notifications.WebhookEndpoints.MapWebhooks(api);
        Pilotage.Server.Import.ImportEndpoints.MapEvidenceImport(api);
        api.MapIncidents();
        Changes.ChangeRequestEndpoints.MapChangeRequests(api);
        Changes.OwnershipEndpoints.MapOwnership(api);
        Changes.RetentionEndpoints.MapRetention(api);
        Attention.AttentionEndpoints.MapAttention(api);
        app.MapGateway();
        app.MapEvidenceForApps();
        Scim.ScimEndpoints.MapScim(app);
        Dashboard.DashboardSetup.MapDashboard(app);
        return app;
    }

    /// <summary>The operator's upstream policy: the options' lists (flags) and the configuration's (<c>Pilotage:UpstreamSecrets</c>, <c>Pilotage:UpstreamAllow</c>) together.</summary>
    private static Upstreams.UpstreamPolicy UpstreamPolicyFrom(PilotageServerOptions options, IConfiguration configuration, Upstreams.OwnListeners own) => new(
        Upstreams.UpstreamSecrets.Parse(options.UpstreamSecrets.Concat(ConfiguredList(configuration, "Pilotage:UpstreamSecrets"))),
        options.UpstreamAllow.Concat(ConfiguredList(configuration, "Pilotage:UpstreamAllow")).Where(e => !string.IsNullOrWhiteSpace(e))
            .Select(e => Upstreams.HostPattern.Parse(e, "--upstream-allow")).ToList(),
        own,
        options.UpstreamResolver ?? Upstreams.UpstreamPolicy.SystemResolver);

    /// <summary>The directory role mapping from configuration: <c>Pilotage:Identity:Roles:&lt;group&gt;=&lt;role&gt;</c>, <c>Pilotage:Identity:GroupIds:&lt;id&gt;=&lt;group&gt;</c>.</summary>
    private static Core.Access.DirectoryRoleMap DirectoryRoleMapFrom(ConfigurationManager configuration) => Core.Access.DirectoryRoleMap.Parse(
        configuration.GetSection("Pilotage:Identity:Roles").GetChildren().Select(c => new KeyValuePair<string, string?>(c.Key, c.Value)),
        configuration.GetSection("Pilotage:Identity:GroupIds").GetChildren().Select(c => new KeyValuePair<string, string?>(c.Key, c.Value)));

    /// <summary>The provider from the flags, else from the configuration (<c>Pilotage:Oidc:Authority</c>, <c>ClientId</c>, <c>ClientSecretEnv</c>, <c>Audience</c>, <c>GroupsClaim</c>).</summary>
    private static Identity.OidcOptions? OidcFrom(PilotageServerOptions options, ConfigurationManager configuration)
    {
        if (options.Oidc is not null) return options.Oidc;
        var section = configuration.GetSection("Pilotage:Oidc");
        var oidc = Identity.OidcOptions.Create(section["Authority"], section["ClientId"], section["ClientSecretEnv"], section["Audience"], section["GroupsClaim"], Environment.GetEnvironmentVariable);
        var scopes = ConfiguredList(configuration, "Pilotage:Oidc:Scopes").ToList();
        return oidc is not null && scopes.Count > 0 ? oidc with { Scopes = scopes } : oidc;
    }

    /// <summary>A list in configuration: an array (<c>Pilotage__UpstreamSecrets__0=…</c>) or one value with entries separated by ';'.</summary>
    internal static IEnumerable<string> ConfiguredList(IConfiguration configuration, string key)
    {
        var section = configuration.GetSection(key);
        if (section.Value is { } single) return single.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return section.GetChildren().Select(c => c.Value).OfType<string>();
    }

    /// <summary>Migrates the store, bootstraps the admin, and starts listening. Returns the bound address.</summary>
    public static async Task<string> StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        // A list entry that cannot be read stops the start with its message, before anything else happens.
        app.Services.GetRequiredService<Upstreams.UpstreamPolicy>();
        app.Services.GetRequiredService<Core.Access.DirectoryRoleMap>();
        app.Services.GetRequiredService<Scim.ScimToken>();
        var store = app.Services.GetRequiredService<PilotageStore>();
        await store.MigrateAsync(cancellationToken);
        await AuditLogWiring.StartAsync(app.Services, cancellationToken);
        // A changed group → role mapping takes effect (audited) before the first request.
        await app.Services.GetRequiredService<DirectoryRoles>().ReconcileAsync(cancellationToken);
        await app.Services.GetRequiredService<PolicyCache>().RefreshAsync(cancellationToken);
        await app.Services.GetRequiredService<BudgetLedger>().SeedAsync(store, cancellationToken);
        await PauseRules.PauseRuleWiring.StartAsync(app.Services, cancellationToken);
        await app.StartAsync(cancellationToken);
        // A process-wide setting, decided by the server it hosts (docs/operations.md): a gateway's answers must not
        // wait for a blocking full collection. (Without concurrent GC the runtime ignores the request.)
        GCSettings.LatencyMode = app.Services.GetRequiredService<PilotageServerOptions>().GcLatency;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? app.Urls.First();
        await app.Services.GetRequiredService<Bootstrap>().EnsureAdminAsync(address, cancellationToken);
        app.Services.GetRequiredService<StartupState>().MarkComplete();
        return address;
    }

    /// <summary><c>pilotage serve</c>: runs until Ctrl-C or SIGTERM.</summary>
    public static async Task RunAsync(PilotageServerOptions options, CancellationToken cancellationToken)
    {
        await using var app = Build(options);
        string address;
        try
        {
            address = await StartAsync(app, cancellationToken);
        }
        catch
        {
            // The background services may already run when a later step fails (Kestrel cannot bind its port,
            // say). Stopped, they end quietly; only disposed, the host reports each as "BackgroundService
            // failed" under the real error, which sends the operator after the wrong problem.
            await StopQuietlyAsync(app);
            throw;
        }
        var announce = options.Announce ?? Console.Out;
        await announce.WriteLineAsync($"Pilotage is serving on {address} (store: {app.Services.GetRequiredService<StoreLocation>().Describe()}). Ctrl-C stops it.");
        await app.WaitForShutdownAsync(cancellationToken);
    }

    private static async Task StopQuietlyAsync(WebApplication app)
    {
        try
        {
            await app.StopAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The start-up failure is the error to report; a second one from stopping would only hide it.
            app.Logger.LogDebug(e, "Stopping after a failed start-up failed too");
        }
    }
}
