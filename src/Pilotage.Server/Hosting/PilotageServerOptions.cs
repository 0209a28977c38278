using Pilotage.Server.Policy;
namespace Pilotage.Server.Hosting;

/// <summary>How <c>pilotage serve</c> runs: from flags, environment and defaults.</summary>
public sealed record PilotageServerOptions
{
    public const string DefaultUrls = "http://127.0.0.1:5080";

    /// <summary><c>--db</c> / <c>PILOTAGE_DB</c>: SQLite path or connection string, or a PostgreSQL <c>Host=…</c> string.</summary>
    public string? Database { get; init; }

    /// <summary><c>--urls</c>: where Kestrel listens.</summary>
    public string Urls { get; init; } = DefaultUrls;

    /// <summary><c>PILOTAGE_ADMIN_TOKEN</c>: a bootstrap admin token chosen by the operator; otherwise one is generated once.</summary>
    public string? AdminToken { get; init; }

    /// <summary>
    /// Where a generated bootstrap token is saved for the CLI (mode 0600). Null: the default
    /// (<c>~/.config/pilotage/credentials.json</c>); empty: do not save.
    /// </summary>
    public string? CredentialsPath { get; init; }

    /// <summary>Where start-up messages meant for the operator go (the bootstrap token among them).</summary>
    public TextWriter? Announce { get; init; }

    /// <summary>Clock for every rule that depends on time; tests pass a fake one.</summary>
    public TimeProvider? Time { get; init; }

    /// <summary>Where notifications go (<c>PILOTAGE_WEBHOOK_URL</c>); none when null.</summary>
    public Notifications.WebhookOptions? Webhook { get; init; }

    /// <summary>
    /// Folder of the evidence spool used during store outages (<c>PILOTAGE_SPOOL_DIR</c>); null: beside a
    /// SQLite file, or <c>~/.local/share/pilotage/spool</c> for PostgreSQL (see docs/reliability.md).
    /// </summary>
    public string? SpoolDirectory { get; init; }

    /// <summary>
    /// <c>PILOTAGE_ORPHANED_SYSTEMS</c> (<c>restrict</c> or <c>serve</c>): what the gateway does with a system
    /// whose owner is deactivated, until a new owner accepts it. By default every answer is held for approval.
    /// </summary>
    public OrphanedSystems OrphanedSystems { get; init; } = OrphanedSystems.RestrictToApproval;

    /// <summary>Upstream calls in flight at once, all systems together; beyond it the gateway answers 503 with Retry-After (docs/security.md).</summary>
    public int MaxUpstreamInFlight { get; init; } = 4096;

    /// <summary>Upstream calls in flight at once for one system, so one hanging model cannot take every slot; beyond it 503.</summary>
    public int MaxUpstreamInFlightPerSystem { get; init; } = 2048;

    /// <summary>Upstream calls in flight at once for one key; beyond it 429 with Retry-After.</summary>
    public int MaxUpstreamInFlightPerKey { get; init; } = 256;

    /// <summary>
    /// Bytes of request bodies and non-streamed answers the gateway holds in memory at once, all requests
    /// together (<c>PILOTAGE_MAX_BUFFERED_MB</c>); beyond it 503 with Retry-After (docs/security.md).
    /// </summary>
    public long MaxBufferedBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Open connections Kestrel accepts at once (<c>PILOTAGE_MAX_CONNECTIONS</c>); more wait in the OS backlog.</summary>
    public int MaxConcurrentConnections { get; init; } = 8192;

    /// <summary>Upgraded (WebSocket) connections at once (<c>PILOTAGE_MAX_UPGRADED_CONNECTIONS</c>); Pilotage serves none today.</summary>
    public int MaxConcurrentUpgradedConnections { get; init; } = 256;

    /// <summary>
    /// <c>PILOTAGE_GC_LATENCY</c> (<c>sustained</c> or <c>interactive</c>): the garbage collector's latency mode, set for
    /// the process when the server starts. <c>sustained</c> (<see cref="System.Runtime.GCLatencyMode.SustainedLowLatency"/>)
    /// keeps full collections in the background unless memory runs short; the runtime's own default, <c>interactive</c>,
    /// let a blocking, compacting full collection stop every request for 20–30 ms in the gateway benchmark
    /// (docs/benchmarks.md), for no saving in memory there.
    /// </summary>
    public System.Runtime.GCLatencyMode GcLatency { get; init; } = System.Runtime.GCLatencyMode.SustainedLowLatency;

    /// <summary>
    /// <c>--upstream-secret NAME[=HOST,…]</c> (config <c>Pilotage:UpstreamSecrets</c>): the environment variables a spec
    /// may name in <c>upstream.apiKeyEnv</c>, each optionally bound to the hosts it may be sent to. Empty: names ending
    /// in <c>_API_KEY</c>. <c>PILOTAGE_*</c> is never allowed (docs/security.md, "Upstream secrets").
    /// </summary>
    public IReadOnlyList<string> UpstreamSecrets { get; init; } = [];

    /// <summary>
    /// <c>--upstream-allow CIDR|HOST</c> (config <c>Pilotage:UpstreamAllow</c>): the only addresses and host names an
    /// upstream may have. Empty: any address except link-local, unspecified and Pilotage's own listeners
    /// (docs/security.md, "Upstream addresses").
    /// </summary>
    public IReadOnlyList<string> UpstreamAllow { get; init; } = [];

    /// <summary>How the gateway resolves upstream host names; null: DNS. Tests replace it to play DNS rebinding.</summary>
    public Upstreams.UpstreamResolver? UpstreamResolver { get; init; }

    /// <summary>
    /// <c>PILOTAGE_DATA_BOUNDARY_BUDGET_MS</c>: the time one request's custom data-boundary patterns may take together;
    /// beyond it the request is refused, 422 <c>boundary_budget_exceeded</c> (docs/security.md, "Data-boundary budget").
    /// </summary>
    public TimeSpan DataBoundaryBudget { get; init; } = Core.DataBoundary.BoundaryBudget.DefaultLimit;

    /// <summary>
    /// <c>--oidc-*</c> (config <c>Pilotage:Oidc:*</c>): the organisation's OpenID provider, for dashboard sign-in and
    /// access tokens on the gateway and the API (docs/identity.md); null: Pilotage keys only.
    /// </summary>
    public Identity.OidcOptions? Oidc { get; init; }

    /// <summary>Extra log providers (tests capture the logs to check that no secret or prompt is written).</summary>
    public IReadOnlyList<ILoggerProvider> LoggerProviders { get; init; } = [];

    /// <summary>When a figure becomes an attention item on the dashboard, the API and <c>pilotage status</c> (docs/dashboard.md).</summary>
    public Attention.AttentionThresholds Attention { get; init; } = Pilotage.Server.Attention.AttentionThresholds.Default;

    /// <summary>The audit log's key file, witness and checkpoint cadence (<c>--audit-key</c>, <c>--audit-witness</c>; docs/audit.md); null: the defaults.</summary>
    public Audit.AuditLogOptions? AuditLog { get; init; }

    /// <summary>Minimum log level; tests raise it to keep output readable.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>
    /// PostgreSQL: months of interactions kept; older months are dropped whole, as partitions
    /// (Evidence/InteractionPartitions.cs). 0 keeps every month. Roll-ups, reviews and the audit log stay.
    /// </summary>
    public int InteractionRetentionMonths { get; init; }

    /// <summary>
    /// The directory group → role mapping and the group id table (config <c>Pilotage:Identity:Roles</c>,
    /// <c>Pilotage:Identity:GroupIds</c>; docs/identity.md). Null: read from configuration; tests set it.
    /// </summary>
    public Core.Access.DirectoryRoleMap? DirectoryRoles { get; init; }

    /// <summary><c>PILOTAGE_SCIM_TOKEN</c>: the SCIM provisioning client's bearer token; SCIM is off without it (docs/identity.md).</summary>
    public string? ScimToken { get; init; }
}
