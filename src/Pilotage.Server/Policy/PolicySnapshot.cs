using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Gateway;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Policy;

/// <summary>A person as the gateway sees them.</summary>
public sealed record Principal(long Id, string Email, Role Role, bool Active, FrozenSet<string> Groups);

/// <summary>An API key as the gateway checks it: no database round trip on the request path.</summary>
public sealed record KeyGrant(string Id, byte[] Hash, DateTimeOffset? ExpiresAt, bool Revoked, Principal User)
{
    /// <summary>
    /// The user's groups as every evidence record stores them (sorted JSON array), computed once per
    /// snapshot instead of once per request: a grant never changes, a new snapshot builds new grants.
    /// </summary>
    public string GroupsJson { get; } = System.Text.Json.JsonSerializer.Serialize(User.Groups.Order(StringComparer.Ordinal).ToArray(), PolicyJsonContext.Default.StringArray);
}

public enum KeyProblem { None, Missing, Unknown, Revoked, Expired, Deactivated }

/// <summary>The outcome of a key check: the key (when it exists) and what, if anything, stops it being used.</summary>
public readonly record struct KeyCheck(KeyGrant? Key, KeyProblem Problem)
{
    /// <summary>The key when it may be used now.</summary>
    public KeyGrant? Usable => Problem == KeyProblem.None ? Key : null;
}

/// <summary>
/// Everything the gateway decides on, immutable. A control-plane change builds a new snapshot and
/// swaps it in one reference assignment, so the very next request sees the change.
/// </summary>
public sealed class PolicySnapshot
{
    private readonly FrozenSet<(long User, long System)> _trained;

    /// <param name="bootstrap">The newest bootstrap key (<see cref="ApiKeyToken.BootstrapGeneration"/>), if any.</param>
    public PolicySnapshot(long version, FrozenDictionary<string, KeyGrant> keys, FrozenDictionary<string, GatewaySystem> systems, FrozenSet<(long User, long System)> trained, KeyGrant? bootstrap = null)
    {
        Version = version;
        Keys = keys;
        Systems = systems;
        _trained = trained;
        _bootstrap = bootstrap;
    }

    private readonly KeyGrant? _bootstrap;

    public static PolicySnapshot Empty { get; } = new(0, FrozenDictionary<string, KeyGrant>.Empty, FrozenDictionary<string, GatewaySystem>.Empty, FrozenSet<(long, long)>.Empty);

    public long Version { get; }
    public FrozenDictionary<string, KeyGrant> Keys { get; }

    /// <summary>Every person by e-mail (or, for a person known only by a token's subject, that subject): access tokens name people, not keys.</summary>
    public FrozenDictionary<string, Principal> People { get; init; } = FrozenDictionary<string, Principal>.Empty;
    public FrozenDictionary<string, GatewaySystem> Systems { get; }

    public bool HasTraining(long userId, long systemId) => _trained.Contains((userId, systemId));

    /// <summary>The token of an <c>Authorization: Bearer …</c> header; null when there is none.</summary>
    public static string? BearerToken(string? header) =>
        header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7 ? header[7..].Trim() : null;

    /// <summary>
    /// The one key check every surface uses (gateway, evidence endpoints, control API): found by the id
    /// inside the token, compared by hash in constant time, then revoked, expired and deactivated.
    /// Each surface words the problem for its own callers.
    /// </summary>
    public KeyCheck CheckKey(string? token, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(token)) return new KeyCheck(null, KeyProblem.Missing);
        if (token.Length > 512 || Find(ApiKeyToken.IdOf(token)) is not { } key || !ApiKeyToken.Matches(token, key.Hash))
        {
            return new KeyCheck(null, KeyProblem.Unknown);
        }
        var problem = key.Revoked ? KeyProblem.Revoked
            : key.ExpiresAt is { } expires && expires <= now ? KeyProblem.Expired
            : !key.User.Active ? KeyProblem.Deactivated
            : KeyProblem.None;
        return new KeyCheck(key, problem);
    }

    /// <summary>
    /// The key a token's id names. A bootstrap token that is not <c>plt_&lt;id&gt;_…</c> carries no id: it is checked against
    /// the newest bootstrap key only, so an earlier <c>PILOTAGE_ADMIN_TOKEN</c> value stops working once the operator
    /// has set a new one (Hosting/Bootstrap).
    /// </summary>
    private KeyGrant? Find(string id) =>
        id == ApiKeyToken.BootstrapId ? _bootstrap : Keys.GetValueOrDefault(id);

    /// <summary>SHA-256 of a training text: acknowledging one text does not acknowledge its replacement.</summary>
    public static string TrainingHash(string? text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text ?? "")));

    /// <param name="restrictOrphans">Serve systems whose owner is deactivated in approval mode (the OrphanedSystems setting).</param>
    public static async Task<PolicySnapshot> LoadAsync(PilotageStore store, long version, CancellationToken ct, bool restrictOrphans = true)
    {
        // The four reads are independent: on PostgreSQL they go out at once on their own connections, so a rebuild
        // (what a replica does when another one pauses a system) costs one round trip, not four; SQLite shares one connection.
        var parallel = store.Location.Provider == StoreProvider.PostgreSql;
        var usersRead = Read(store, parallel, null, db => db.Users.AsNoTracking().Include(u => u.Memberships).ThenInclude(m => m.Group).ToListAsync(ct));
        var keysRead = Read(store, parallel, usersRead, db => db.ApiKeys.AsNoTracking().ToListAsync(ct));
        var rowsRead = Read(store, parallel, keysRead, db => db.Systems.AsNoTracking().ToListAsync(ct));
        var acksRead = Read(store, parallel, rowsRead, db => db.TrainingAcknowledgements.AsNoTracking().ToListAsync(ct));
        var users = await usersRead;
        var principals = users.ToDictionary(u => u.Id, u => new Principal(
            u.Id, u.Email, Roles.TryParse(u.Role, out var role) ? role : Role.Member, u.Active,
            u.Memberships.Where(m => m.Group is not null).Select(m => m.Group!.Name).ToFrozenSet(StringComparer.Ordinal)));
        var keys = await keysRead;
        var grants = keys.Where(k => principals.ContainsKey(k.UserId))
            .ToDictionary(k => k.Id, k => new KeyGrant(k.Id, k.SecretHash, k.ExpiresAt, k.RevokedAt is not null, principals[k.UserId]), StringComparer.Ordinal);
        var bootstrap = grants.Values.Where(g => ApiKeyToken.BootstrapGeneration(g.Id) > 0).MaxBy(g => ApiKeyToken.BootstrapGeneration(g.Id));

        var rows = await rowsRead;
        // Orphaned: the owner's account exists but is deactivated (an owner never registered as a user is not).
        var deactivated = users.Where(u => !u.Active).Select(u => u.Email).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var systems = new Dictionary<string, GatewaySystem>(StringComparer.Ordinal);
        var trainingHashes = new Dictionary<long, string>();
        foreach (var row in rows)
        {
            var spec = SpecCanonicalJson.Deserialize(row.SpecJson);
            var lifecycle = new LifecycleState(
                Enum.Parse<LifecyclePhase>(row.Phase), row.Stage,
                row.LastDecision is null ? null : Enum.Parse<PilotOutcome>(row.LastDecision),
                row.SuspendedPhase is null ? null : Enum.Parse<LifecyclePhase>(row.SuspendedPhase), row.SuspendedStage)
            { ResumeRestricted = row.ResumeRestricted };
            var pause = row.PausedAt is { } at ? new PauseInfo(row.PausedBy ?? "unknown", at, row.PauseReason ?? "no reason given") : null;
            systems[row.Slug] = GatewaySystem.From(new SystemState(row.Id, spec, lifecycle, row.ConfigVersion, pause, row.PilotEndsOverride)
            {
                OrphanRestricted = restrictOrphans && deactivated.Contains(row.Owner),
                PendingOwner = row.PendingOwner,
            });
            trainingHashes[row.Id] = TrainingHash(spec.Training.Text);
        }
        var acks = await acksRead;
        var trained = acks.Where(a => trainingHashes.TryGetValue(a.SystemId, out var hash) && hash == a.TextHash)
            .Select(a => (a.UserId, a.SystemId)).ToFrozenSet();
        return new PolicySnapshot(version, grants.ToFrozenDictionary(StringComparer.Ordinal), systems.ToFrozenDictionary(StringComparer.Ordinal), trained, bootstrap)
        {
            People = principals.Values.ToFrozenDictionary(p => p.Email, StringComparer.Ordinal),
        };
    }

    /// <summary>One read on its own context: started now when <paramref name="parallel"/>, else after <paramref name="after"/>.</summary>
    private static async Task<List<T>> Read<T>(PilotageStore store, bool parallel, Task? after, Func<PilotageDbContext, Task<List<T>>> query)
    {
        if (!parallel && after is not null) await after;
        await using var db = store.CreateDbContext();
        return await query(db);
    }
}

/// <summary>The snapshot's own serialisation: a grant's groups as evidence stores them.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class PolicyJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>Holds the current <see cref="PolicySnapshot"/> and rebuilds it after each committed change.</summary>
public sealed class PolicyCache(PilotageStore store, ILogger<PolicyCache> logger, PolicyOptions? options = null) : ICommitObserver, IDisposable
{
    private readonly bool _restrictOrphans = (options?.OrphanedSystems ?? OrphanedSystems.RestrictToApproval) == OrphanedSystems.RestrictToApproval;

    private readonly SemaphoreSlim _rebuild = new(1, 1);
    private PolicySnapshot _current = PolicySnapshot.Empty;
    private long _version;

    /// <summary>The snapshot in force: read once per request.</summary>
    public PolicySnapshot Current => Volatile.Read(ref _current);

    public Task OnCommittedAsync(CancellationToken ct) => RefreshAsync(ct);

    public async Task RefreshAsync(CancellationToken ct)
    {
        // Serialised so that a slow rebuild cannot overwrite a newer one.
        await _rebuild.WaitAsync(ct);
        try
        {
            var snapshot = await PolicySnapshot.LoadAsync(store, Interlocked.Increment(ref _version), ct, _restrictOrphans);
            Volatile.Write(ref _current, snapshot);
            logger.LogDebug("Policy snapshot {Version}: {Systems} systems, {Keys} keys", snapshot.Version, snapshot.Systems.Count, snapshot.Keys.Count);
        }
        finally
        {
            _rebuild.Release();
        }
    }

    public void Dispose() => _rebuild.Dispose();
}
