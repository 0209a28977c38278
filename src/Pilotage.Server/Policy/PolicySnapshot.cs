using System.Collections.Frozen;
using System.Collections.Immutable;
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
    /// grant instead of once per request: a grant never changes, a changed user gets new grants.
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
/// What a scoped change needs besides the public maps: who is who by id, whose keys are whose, who owns
/// which system and which e-mails are deactivated (ignoring case, as an owner is matched).
/// </summary>
internal sealed record PolicyIndex(
    PolicyDictionary<long, Principal> PeopleById,
    PolicyDictionary<long, IReadOnlyList<string>> KeysByUser,
    PolicyDictionary<string, string> Owners,
    ImmutableDictionary<string, int> Deactivated)
{
    public static PolicyIndex Empty { get; } = new(
        PolicyDictionary<long, Principal>.Empty(EqualityComparer<long>.Default),
        PolicyDictionary<long, IReadOnlyList<string>>.Empty(EqualityComparer<long>.Default),
        PolicyDictionary<string, string>.Empty(StringComparer.Ordinal),
        ImmutableDictionary.Create<string, int>(StringComparer.OrdinalIgnoreCase));

    public bool IsDeactivated(string email) => Deactivated.ContainsKey(email);
}

/// <summary>
/// Everything the gateway decides on, immutable. A control-plane change builds a new snapshot from the
/// previous one, rebuilding only the entries it touched (<see cref="PolicyChange"/>), and swaps it in one
/// reference assignment, so the very next request sees the change.
/// </summary>
public sealed class PolicySnapshot
{
    private readonly PolicyDictionary<long, FrozenSet<long>> _trained;
    private readonly KeyGrant? _bootstrap;

    internal PolicySnapshot(long version, PolicyDictionary<string, KeyGrant> keys, PolicyDictionary<string, GatewaySystem> systems,
        PolicyDictionary<string, Principal> people, PolicyDictionary<long, FrozenSet<long>> trained, KeyGrant? bootstrap, PolicyIndex index)
    {
        Version = version;
        Keys = keys;
        Systems = systems;
        People = people;
        _trained = trained;
        _bootstrap = bootstrap;
        Index = index;
    }

    public static PolicySnapshot Empty { get; } = new(0,
        PolicyDictionary<string, KeyGrant>.Empty(StringComparer.Ordinal), PolicyDictionary<string, GatewaySystem>.Empty(StringComparer.Ordinal),
        PolicyDictionary<string, Principal>.Empty(StringComparer.Ordinal), PolicyDictionary<long, FrozenSet<long>>.Empty(EqualityComparer<long>.Default), null, PolicyIndex.Empty);

    public long Version { get; }
    public PolicyDictionary<string, KeyGrant> Keys { get; }

    /// <summary>Every person by e-mail (or, for a person known only by a token's subject, that subject): access tokens name people, not keys.</summary>
    public PolicyDictionary<string, Principal> People { get; }
    public PolicyDictionary<string, GatewaySystem> Systems { get; }

    internal PolicyIndex Index { get; }

    /// <summary>The users who acknowledged each system's current training text, by system id.</summary>
    internal PolicyDictionary<long, FrozenSet<long>> Trained => _trained;

    internal KeyGrant? Bootstrap => _bootstrap;

    public bool HasTraining(long userId, long systemId) => _trained.TryGetValue(systemId, out var users) && users.Contains(userId);

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

    /// <summary>Builds the whole snapshot from the store (at start, and when a change can't be scoped).</summary>
    /// <param name="restrictOrphans">Serve systems whose owner is deactivated in approval mode (the OrphanedSystems setting).</param>
    public static async Task<PolicySnapshot> LoadAsync(PilotageStore store, long version, CancellationToken ct, bool restrictOrphans = true)
    {
        // The four reads are independent: on PostgreSQL they go out at once on their own connections, so a rebuild
        // costs one round trip, not four; SQLite shares one connection.
        var parallel = store.Location.Provider == StoreProvider.PostgreSql;
        var usersRead = Read(store, parallel, null, db => db.Users.AsNoTracking().Include(u => u.Memberships).ThenInclude(m => m.Group).ToListAsync(ct));
        var keysRead = Read(store, parallel, usersRead, db => db.ApiKeys.AsNoTracking().ToListAsync(ct));
        var rowsRead = Read(store, parallel, keysRead, db => db.Systems.AsNoTracking().ToListAsync(ct));
        var acksRead = Read(store, parallel, rowsRead, db => db.TrainingAcknowledgements.AsNoTracking().ToListAsync(ct));
        var principals = (await usersRead).Select(PrincipalOf).ToDictionary(p => p.Id);
        var keys = await keysRead;
        var grants = keys.Where(k => principals.ContainsKey(k.UserId)).Select(k => GrantOf(k, principals[k.UserId])).ToList();
        var bootstrap = NewestBootstrap(grants);

        // Orphaned: the owner's account exists but is deactivated (an owner never registered as a user is not).
        var deactivated = ImmutableDictionary.CreateRange(StringComparer.OrdinalIgnoreCase,
            principals.Values.Where(p => !p.Active).GroupBy(p => p.Email, StringComparer.OrdinalIgnoreCase).Select(g => KeyValuePair.Create(g.Key, g.Count())));
        var rows = await rowsRead;
        var systems = rows.Select(r => SystemOf(r, restrictOrphans && deactivated.ContainsKey(r.Owner))).ToList();
        var acks = await acksRead;
        var trained = Trainings(systems, acks);
        var index = new PolicyIndex(
            PolicyDictionary<long, Principal>.From(principals.Select(p => KeyValuePair.Create(p.Key, p.Value)), EqualityComparer<long>.Default),
            PolicyDictionary<long, IReadOnlyList<string>>.From(grants.GroupBy(g => g.User.Id).Select(g => KeyValuePair.Create(g.Key, (IReadOnlyList<string>)[.. g.Select(k => k.Id)])), EqualityComparer<long>.Default),
            PolicyDictionary<string, string>.From(rows.Select(r => KeyValuePair.Create(r.Slug, r.Owner)), StringComparer.Ordinal),
            deactivated);
        return new PolicySnapshot(version,
            PolicyDictionary<string, KeyGrant>.From(grants.Select(g => KeyValuePair.Create(g.Id, g)), StringComparer.Ordinal),
            PolicyDictionary<string, GatewaySystem>.From(systems.Select(s => KeyValuePair.Create(s.State.Slug, s)), StringComparer.Ordinal),
            PolicyDictionary<string, Principal>.From(principals.Values.Select(p => KeyValuePair.Create(p.Email, p)), StringComparer.Ordinal),
            PolicyDictionary<long, FrozenSet<long>>.From(trained, EqualityComparer<long>.Default),
            bootstrap, index);
    }

    internal static Principal PrincipalOf(UserRow u) => new(
        u.Id, u.Email, Roles.TryParse(u.Role, out var role) ? role : Role.Member, u.Active,
        u.Memberships.Where(m => m.Group is not null).Select(m => m.Group!.Name).ToFrozenSet(StringComparer.Ordinal));

    internal static KeyGrant GrantOf(ApiKeyRow k, Principal user) => new(k.Id, k.SecretHash, k.ExpiresAt, k.RevokedAt is not null, user);

    internal static KeyGrant? NewestBootstrap(IEnumerable<KeyGrant> grants) =>
        grants.Where(g => ApiKeyToken.BootstrapGeneration(g.Id) > 0).MaxBy(g => ApiKeyToken.BootstrapGeneration(g.Id));

    internal static GatewaySystem SystemOf(AiSystemRow row, bool orphanRestricted)
    {
        var spec = SpecCanonicalJson.Deserialize(row.SpecJson);
        var lifecycle = new LifecycleState(
            Enum.Parse<LifecyclePhase>(row.Phase), row.Stage,
            row.LastDecision is null ? null : Enum.Parse<PilotOutcome>(row.LastDecision),
            row.SuspendedPhase is null ? null : Enum.Parse<LifecyclePhase>(row.SuspendedPhase), row.SuspendedStage)
        { ResumeRestricted = row.ResumeRestricted };
        var pause = row.PausedAt is { } at ? new PauseInfo(row.PausedBy ?? "unknown", at, row.PauseReason ?? "no reason given") : null;
        return GatewaySystem.From(new SystemState(row.Id, spec, lifecycle, row.ConfigVersion, pause, row.PilotEndsOverride)
        {
            OrphanRestricted = orphanRestricted,
            PendingOwner = row.PendingOwner,
        });
    }

    /// <summary>Per system, the users whose acknowledgement is of its current training text.</summary>
    internal static IEnumerable<KeyValuePair<long, FrozenSet<long>>> Trainings(IEnumerable<GatewaySystem> systems, IEnumerable<TrainingAcknowledgementRow> acks)
    {
        var hashes = systems.ToDictionary(s => s.State.Id, s => TrainingHash(s.State.Spec.Training.Text));
        return acks.Where(a => hashes.TryGetValue(a.SystemId, out var hash) && hash == a.TextHash)
            .GroupBy(a => a.SystemId)
            .Select(g => KeyValuePair.Create(g.Key, g.Select(a => a.UserId).ToFrozenSet()));
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
