using System.Globalization;

namespace Pilotage.Core.Access;

/// <summary>A key that creates another key: the one it is, and what it asks for.</summary>
/// <param name="ParentId">The id of the key making the request.</param>
/// <param name="ParentRole">The role of the parent key's holder: what the parent may do.</param>
/// <param name="ParentExpiresAt">When the parent key expires; null when it never does.</param>
/// <param name="Holder">The e-mail of the person the new key is for.</param>
/// <param name="HolderRole">Their role: what the new key will be able to do.</param>
/// <param name="ExpiresAt">When the new key expires; null for never.</param>
public sealed record KeyRequest(string ParentId, Role ParentRole, DateTimeOffset? ParentExpiresAt, string Holder, Role HolderRole, DateTimeOffset? ExpiresAt);

/// <summary>
/// A key never creates one that outgrows it: not one that expires later (or never) when it expires itself, and
/// not one that holds a right it lacks. Otherwise a short-lived key, once stolen, would mint a permanent one.
/// </summary>
public static class KeyDelegation
{
    /// <summary>Why the key may not be created (naming the expiry or the right that exceeds), or null when it may.</summary>
    public static string? Refusal(KeyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ParentExpiresAt is { } limit)
        {
            var latest = limit.UtcDateTime.ToString("u", CultureInfo.InvariantCulture);
            if (request.ExpiresAt is not { } wanted)
            {
                return $"key {request.ParentId} expires at {latest}, so a key it creates must expire too, no later: this one would never expire. Give expiresAt (pilotage keys create --expires) at or before {latest}, or create it with a key that does not expire";
            }
            if (wanted > limit)
            {
                return $"expiresAt {wanted.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)} is later than {latest}, when key {request.ParentId} that creates it expires. Give expiresAt (pilotage keys create --expires) at or before {latest}, or create it with a key that lives longer";
            }
        }
        foreach (var permission in Enum.GetValues<Permission>())
        {
            if (AccessMatrix.Allows(request.HolderRole, permission) && !AccessMatrix.Allows(request.ParentRole, permission))
            {
                return $"a key for {request.Holder} (role '{request.HolderRole.ToName()}') would have the right {permission}, which key {request.ParentId} (role '{request.ParentRole.ToName()}') does not have; a key creates only keys with no more rights than its own";
            }
        }
        return null;
    }
}
