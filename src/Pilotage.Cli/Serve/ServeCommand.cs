using System.CommandLine;
using Microsoft.Extensions.Logging;
using Pilotage.Cli.Client;
using Pilotage.Server.Hosting;
using Pilotage.Server.Storage;
using Pilotage.Server.Policy;

namespace Pilotage.Cli.Serve;

/// <summary><c>pilotage serve</c>: runs the control plane in this process until Ctrl-C or SIGTERM.</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext cli)
    {
        var db = new Option<string?>("--db")
        {
            Description = "Where to keep state: a SQLite file or 'Data Source=…' string, or a PostgreSQL 'Host=…' string [default: $PILOTAGE_DB, else " + StoreLocation.DefaultSqlitePath + "]",
            HelpName = "DB",
        };
        var urls = new Option<string?>("--urls")
        {
            Description = "Address(es) to listen on, separated by ';' [default: " + PilotageServerOptions.DefaultUrls + "]",
            HelpName = "URLS",
        };
        var verbose = new Option<bool>("--verbose")
        {
            Description = "Log every request and other routine events (Information level); by default only warnings and errors are logged",
        };
        var upstreamSecret = new Option<string[]>("--upstream-secret")
        {
            Description = "An environment variable specs may name in upstream.apiKeyEnv (repeatable); NAME=HOST[,HOST] sends it only to those hosts. Without any, names ending in _API_KEY; PILOTAGE_* never",
            HelpName = "NAME[=HOST]",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var upstreamAllow = new Option<string[]>("--upstream-allow")
        {
            Description = "The only networks (10.0.0.0/8), addresses or host names (api.openai.com, *.openai.azure.com) an upstream may have (repeatable). Without any, every address except link-local, unspecified and this server's own",
            HelpName = "CIDR|HOST",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var auditKey = new Option<string?>("--audit-key")
        {
            Description = "The file holding the key audit checkpoints are signed with; created (mode 0600) if missing [default: $PILOTAGE_AUDIT_KEY, else beside the SQLite file, or under ~/.local/share/pilotage/audit for PostgreSQL]",
            HelpName = "FILE",
        };
        var auditWitness = new Option<string?>("--audit-witness")
        {
            Description = "The append-only file every signed checkpoint is written to; put it on other storage than the database [default: $PILOTAGE_AUDIT_WITNESS, else the key file's path + '.witness', or beside the store]",
            HelpName = "PATH",
        };
        var oidcAuthority = new Option<string?>("--oidc-authority")
        {
            Description = "The organisation's OpenID provider (issuer URL, https unless on a loopback address): dashboard sign-in with --oidc-client-id, access tokens on the gateway and the API with --oidc-audience (docs/identity.md)",
            HelpName = "URL",
        };
        var oidcClientId = new Option<string?>("--oidc-client-id") { Description = "The dashboard's client id at the provider (authorization code + PKCE)", HelpName = "ID" };
        var oidcClientSecretEnv = new Option<string?>("--oidc-client-secret-env") { Description = "The environment variable holding the dashboard client's secret", HelpName = "NAME" };
        var oidcAudience = new Option<string?>("--oidc-audience") { Description = "The audience ('aud') the provider's access tokens for Pilotage carry; without it, access tokens are not accepted", HelpName = "AUD" };
        var oidcGroupsClaim = new Option<string?>("--oidc-groups-claim") { Description = "The claim holding a person's groups [default: groups]", HelpName = "NAME" };
        var command = new Command("serve", "Run the Pilotage server (control API) in the foreground; Ctrl-C stops it. Set PILOTAGE_ADMIN_TOKEN to choose the bootstrap admin key, otherwise one is generated and shown once.")
        {
            db,
            urls,
            verbose,
            upstreamSecret,
            upstreamAllow,
            auditKey,
            auditWitness,
            oidcAuthority,
            oidcClientId,
            oidcClientSecretEnv,
            oidcAudience,
            oidcGroupsClaim,
        };
        command.SetAction(async (parse, ct) =>
        {
            var database = parse.GetValue(db) ?? cli.Console.Env("PILOTAGE_DB");
            try
            {
                // Checked before anything starts, so a typo is a one-line usage error rather than a host crash.
                StoreLocation.Parse(database);
            }
            catch (ArgumentException e)
            {
                throw new CliException($"bad --db / PILOTAGE_DB value: {e.Message}", ExitCodes.Usage);
            }
            var options = Options(cli.Console, database, parse.GetValue(urls), parse.GetValue(verbose)) with
            {
                UpstreamSecrets = parse.GetValue(upstreamSecret) ?? [],
                UpstreamAllow = parse.GetValue(upstreamAllow) ?? [],
                AuditLog = AuditLog(cli.Console, parse.GetValue(auditKey), parse.GetValue(auditWitness)),
                Oidc = Setting(() => Pilotage.Server.Identity.OidcOptions.Create(parse.GetValue(oidcAuthority), parse.GetValue(oidcClientId),
                    parse.GetValue(oidcClientSecretEnv), parse.GetValue(oidcAudience), parse.GetValue(oidcGroupsClaim), cli.Console.Env)),
            };
            CheckUpstreamLists(options);
            try
            {
                await PilotageApp.RunAsync(options, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl-C during start-up: stopping is what was asked for.
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or System.Data.Common.DbException or UnauthorizedAccessException or FormatException or ArgumentException)
            {
                throw new CliException($"the server could not start: {e.Message}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// The server's options from the command line. Request logging is for diagnosis, so it is off
    /// unless --verbose; the start-up announcement goes to <see cref="PilotageServerOptions.Announce"/>
    /// and is shown either way.
    /// </summary>
    internal static PilotageServerOptions Options(CliConsole console, string? database, string? urls, bool verbose) => new()
    {
        Database = database,
        Urls = urls ?? PilotageServerOptions.DefaultUrls,
        AdminToken = console.Env("PILOTAGE_ADMIN_TOKEN"),
        ScimToken = console.Env("PILOTAGE_SCIM_TOKEN"),
        CredentialsPath = console.CredentialsPath(),
        Announce = console.Out,
        LogLevel = verbose ? LogLevel.Information : LogLevel.Warning,
        OrphanedSystems = Orphaned(console.Env("PILOTAGE_ORPHANED_SYSTEMS")),
        GcLatency = Setting(() => GcLatencySetting.Parse(console.Env("PILOTAGE_GC_LATENCY"))),
        MaxUpstreamInFlight = Bound(console, "PILOTAGE_MAX_UPSTREAM_IN_FLIGHT", 4096),
        MaxUpstreamInFlightPerSystem = Bound(console, "PILOTAGE_MAX_UPSTREAM_IN_FLIGHT_PER_SYSTEM", 2048),
        MaxUpstreamInFlightPerKey = Bound(console, "PILOTAGE_MAX_UPSTREAM_IN_FLIGHT_PER_KEY", 256),
        MaxBufferedBytes = Bound(console, "PILOTAGE_MAX_BUFFERED_MB", 256) * 1024L * 1024,
        MaxConcurrentConnections = Bound(console, "PILOTAGE_MAX_CONNECTIONS", 8192),
        MaxConcurrentUpgradedConnections = Bound(console, "PILOTAGE_MAX_UPGRADED_CONNECTIONS", 256),
        DataBoundaryBudget = TimeSpan.FromMilliseconds(Bound(console, "PILOTAGE_DATA_BOUNDARY_BUDGET_MS", (int)Core.DataBoundary.BoundaryBudget.DefaultLimit.TotalMilliseconds)),
        InteractionRetentionMonths = Bound(console, "PILOTAGE_INTERACTION_RETENTION_MONTHS", 0),
    };

    /// <summary>The upstream lists are read before anything starts, so a typo is a one-line usage error.</summary>
    private static void CheckUpstreamLists(PilotageServerOptions options)
    {
        Setting(() => Pilotage.Server.Upstreams.UpstreamSecrets.Parse(options.UpstreamSecrets));
        foreach (var entry in options.UpstreamAllow) Setting(() => Pilotage.Server.Upstreams.HostPattern.Parse(entry, "--upstream-allow"));
    }

    /// <summary>The audit log's key, witness and cadence: flags, then <c>PILOTAGE_AUDIT_*</c> (docs/audit.md).</summary>
    private static Pilotage.Server.Audit.AuditLogOptions AuditLog(CliConsole console, string? key, string? witness)
    {
        var url = console.Env("PILOTAGE_AUDIT_WITNESS_URL");
        Uri? witnessUrl = null;
        if (!string.IsNullOrWhiteSpace(url) && (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out witnessUrl) || (witnessUrl.Scheme != Uri.UriSchemeHttp && witnessUrl.Scheme != Uri.UriSchemeHttps)))
        {
            throw new CliException($"PILOTAGE_AUDIT_WITNESS_URL must be an http(s) URL, found '{url}'", ExitCodes.Usage);
        }
        return new Pilotage.Server.Audit.AuditLogOptions
        {
            KeyPath = key ?? console.Env("PILOTAGE_AUDIT_KEY"),
            WitnessPath = witness ?? console.Env("PILOTAGE_AUDIT_WITNESS"),
            WitnessUrl = witnessUrl,
            CheckpointEveryEntries = Bound(console, "PILOTAGE_AUDIT_CHECKPOINT_ENTRIES", 100),
            CheckpointEvery = TimeSpan.FromSeconds(Bound(console, "PILOTAGE_AUDIT_CHECKPOINT_SECONDS", 60)),
        };
    }

    private static OrphanedSystems Orphaned(string? value) => Setting(() => OrphanedSystemsSetting.Parse(value));

    /// <summary>A setting read from the environment; one it cannot read is a usage error that names it.</summary>
    private static T Setting<T>(Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message, ExitCodes.Usage);
        }
    }

    /// <summary>A load-shedding bound from the environment (docs/security.md), or its default when unset.</summary>
    private static int Bound(CliConsole console, string name, int fallback)
    {
        var text = console.Env(name);
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new CliException($"{name} must be a whole number of 1 or more (default {fallback}), found '{text}'", ExitCodes.Usage);
    }
}
