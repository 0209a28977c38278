using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Policy;

/// <summary>One committed audit entry, as much of it as scoping a snapshot change needs.</summary>
internal sealed record CommittedEntry(string Action, string Subject, string? Before, string? After);

/// <summary>
/// What a run of committed commands touched in the policy snapshot, read from their audit entries (every
/// control-plane change is audited, and the subject names what changed): systems by slug, people by e-mail,
/// keys by id. <see cref="ApplyAsync"/> reloads only those rows and builds the next snapshot from the
/// previous one. A change it can't scope (a group created, renamed or deleted; a subject it doesn't know)
/// is <see cref="Everything"/>: the snapshot is rebuilt whole.
/// </summary>
internal sealed class PolicyChange
{
    public bool Everything { get; private set; }
    public HashSet<string> Systems { get; } = new(StringComparer.Ordinal);
    public HashSet<string> People { get; } = new(StringComparer.Ordinal);
    public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);

    public static PolicyChange Of(IEnumerable<CommittedEntry> entries)
    {
        var change = new PolicyChange();
        foreach (var entry in entries) change.Add(entry);
        return change;
    }

    private void Add(CommittedEntry entry)
    {
        var colon = entry.Subject.IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? entry.Subject : entry.Subject[..colon];
        var name = colon < 0 ? "" : entry.Subject[(colon + 1)..];
        switch (kind)
        {
            case "system": Systems.Add(name); break;
            case "key": Keys.Add(name); break;
            case "user": People.Add(name); break;
            // A membership changes one person's groups; the entry names them (a JSON string).
            case "group" when entry.Action == "group.member_added" && EmailIn(entry.After) is { } added: People.Add(added); break;
            case "group" when entry.Action == "group.member_removed" && EmailIn(entry.Before) is { } removed: People.Add(removed); break;
            // Incidents and evidence partitions are not in the snapshot (an incident that changes a system audits it as system:…).
            case "incident" or "interactions": break;
            default: Everything = true; break;
        }
    }

    private static string? EmailIn(string? json)
    {
        if (json is null) return null;
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.String ? document.RootElement.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The snapshot after this change: <paramref name="previous"/> with the changed people, keys and systems
    /// reloaded from the store, sharing every other entry. Null when the change turns out not to be scoped
    /// (a person named by an e-mail no row has any more): the caller rebuilds whole.
    /// </summary>
    public async Task<PolicySnapshot?> ApplyAsync(PolicySnapshot previous, PilotageStore store, long version, bool restrictOrphans, CancellationToken ct)
    {
        if (Everything) return null;
        await using var db = store.CreateDbContext();
        var index = previous.Index;
        var people = new List<KeyValuePair<string, Principal?>>();
        var peopleById = new List<KeyValuePair<long, Principal?>>();
        var grants = new Dictionary<string, KeyGrant?>(StringComparer.Ordinal);
        var owners = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var deactivated = index.Deactivated;
        var principals = new Dictionary<long, Principal>();

        if (People.Count > 0)
        {
            var emails = People.ToList();
            var rows = await db.Users.AsNoTracking().Include(u => u.Memberships).ThenInclude(m => m.Group).Where(u => emails.Contains(u.Email)).ToListAsync(ct);
            if (rows.Count != emails.Count) return null;
            foreach (var row in rows)
            {
                var person = PolicySnapshot.PrincipalOf(row);
                var before = index.PeopleById.GetValueOrDefault(row.Id);
                if (before is not null && before.Email != person.Email) people.Add(new(before.Email, null));
                people.Add(new(person.Email, person));
                peopleById.Add(new(person.Id, person));
                principals[person.Id] = person;
                if (before is { Active: false }) deactivated = Count(deactivated, before.Email, -1);
                if (!person.Active) deactivated = Count(deactivated, person.Email, +1);
                if (before is not null) owners.Add(before.Email);
                owners.Add(person.Email);
                // Their keys carry the person: each gets a new grant (a grant never changes once built).
                foreach (var id in index.KeysByUser.GetValueOrDefault(person.Id) ?? [])
                {
                    if (previous.Keys.GetValueOrDefault(id) is { } grant) grants[id] = new KeyGrant(grant.Id, grant.Hash, grant.ExpiresAt, grant.Revoked, person);
                }
            }
        }

        var keysByUser = new Dictionary<long, IReadOnlyList<string>>();
        if (Keys.Count > 0)
        {
            var ids = Keys.ToList();
            var rows = await db.ApiKeys.AsNoTracking().Where(k => ids.Contains(k.Id)).ToListAsync(ct);
            foreach (var id in ids) grants[id] = null;
            foreach (var row in rows)
            {
                var user = principals.GetValueOrDefault(row.UserId) ?? index.PeopleById.GetValueOrDefault(row.UserId);
                if (user is null) continue;
                grants[row.Id] = PolicySnapshot.GrantOf(row, user);
                var mine = keysByUser.GetValueOrDefault(row.UserId) ?? index.KeysByUser.GetValueOrDefault(row.UserId) ?? [];
                if (!mine.Contains(row.Id, StringComparer.Ordinal)) keysByUser[row.UserId] = [.. mine, row.Id];
            }
        }

        // Systems whose owner's deactivation changed are served differently (orphaned) as well as those named.
        var slugs = new HashSet<string>(Systems, StringComparer.Ordinal);
        var flipped = owners.Where(e => index.IsDeactivated(e) != deactivated.ContainsKey(e)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (flipped.Count > 0)
        {
            foreach (var (slug, owner) in index.Owners) if (flipped.Contains(owner)) slugs.Add(slug);
        }
        var systems = new List<KeyValuePair<string, GatewaySystem?>>();
        var systemOwners = new List<KeyValuePair<string, string?>>();
        var trained = new List<KeyValuePair<long, FrozenSet<long>?>>();
        if (slugs.Count > 0)
        {
            var wanted = slugs.ToList();
            var rows = await db.Systems.AsNoTracking().Where(s => wanted.Contains(s.Slug)).ToListAsync(ct);
            var ids = rows.Select(r => r.Id).ToList();
            var acks = await db.TrainingAcknowledgements.AsNoTracking().Where(a => ids.Contains(a.SystemId)).ToListAsync(ct);
            foreach (var slug in wanted)
            {
                // Gone (or its id changed): its entry and its acknowledgements go.
                if (previous.Systems.GetValueOrDefault(slug) is { } old && !rows.Any(r => r.Id == old.State.Id)) trained.Add(new(old.State.Id, null));
                if (!rows.Any(r => r.Slug == slug))
                {
                    systems.Add(new(slug, null));
                    systemOwners.Add(new(slug, null));
                }
            }
            var reloaded = rows.Select(r => PolicySnapshot.SystemOf(r, restrictOrphans && deactivated.ContainsKey(r.Owner))).ToList();
            foreach (var (row, system) in rows.Zip(reloaded))
            {
                systems.Add(new(row.Slug, system));
                systemOwners.Add(new(row.Slug, row.Owner));
                // Cleared first: a system whose acknowledgements no longer match its text has none (changes apply in order).
                trained.Add(new(row.Id, null));
            }
            trained.AddRange(PolicySnapshot.Trainings(reloaded, acks).Select(t => KeyValuePair.Create(t.Key, (FrozenSet<long>?)t.Value)));
        }

        var keys = previous.Keys.With(grants);
        // The newest bootstrap key is the previous one (as it now stands) or one of the keys just changed.
        var candidates = grants.Values.OfType<KeyGrant>().ToList();
        if (previous.Bootstrap is { } bootstrap && keys.GetValueOrDefault(bootstrap.Id) is { } current) candidates.Add(current);
        var nextIndex = new PolicyIndex(
            index.PeopleById.With(peopleById),
            index.KeysByUser.With(keysByUser.Select(k => KeyValuePair.Create(k.Key, (IReadOnlyList<string>?)k.Value))),
            index.Owners.With(systemOwners),
            deactivated);
        return new PolicySnapshot(version, keys, previous.Systems.With(systems), previous.People.With(people),
            previous.Trained.With(trained), PolicySnapshot.NewestBootstrap(candidates), nextIndex);
    }

    private static ImmutableDictionary<string, int> Count(ImmutableDictionary<string, int> counts, string email, int delta)
    {
        var next = counts.GetValueOrDefault(email) + delta;
        return next > 0 ? counts.SetItem(email, next) : counts.Remove(email);
    }
}
