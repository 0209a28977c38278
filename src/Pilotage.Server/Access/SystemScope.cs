using Pilotage.Core.Access;
using Pilotage.Core.Specs;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Access;

/// <summary>
/// The systems a caller may reach, asked of <see cref="SystemAccess"/> against the policy snapshot (which
/// is rebuilt before any command that changes an owner, a reviewer group or a membership answers). A
/// system the caller may not read is answered exactly like one that does not exist.
/// </summary>
public sealed class SystemScope(PolicyCache policy)
{
    public bool MayRead(Person who, string? slug) =>
        slug is not null && policy.Current.Systems.TryGetValue(slug, out var system)
        && SystemAccess.MayRead(who, system.State.Spec, system.State.PendingOwner);

    /// <summary>The slugs of every system the caller may read.</summary>
    public IReadOnlySet<string> Readable(Person who) =>
        policy.Current.Systems.Values
            .Where(s => SystemAccess.MayRead(who, s.State.Spec, s.State.PendingOwner))
            .Select(s => s.State.Slug)
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>The same rule on a row read inside a command (the store, not the snapshot, is the authority there).</summary>
    public static bool MayRead(Person who, AiSystemRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return SystemAccess.MayRead(who, SpecCanonicalJson.Deserialize(row.SpecJson), row.PendingOwner);
    }

    /// <summary>For lists: null when the caller reads every system (admin, auditor), else the slugs they may read.</summary>
    public IReadOnlySet<string>? Restriction(Person who) =>
        who.Role is Role.Admin or Role.Auditor ? null : Readable(who);

    /// <summary>Throws the 404 of a system that does not exist unless the caller may read it.</summary>
    public void EnsureReadable(Person who, string slug)
    {
        if (!MayRead(who, slug)) throw NoSystem(slug);
    }

    /// <summary>The one answer for "no such system" and "not yours": the two must not be told apart.</summary>
    public static CommandRefusedException NoSystem(string slug) =>
        Problems.NotFound($"no system '{slug}'; 'pilotage status' lists the systems you may see");
}

/// <summary>
/// On every control API endpoint: a route naming a system (<c>{slug}</c>) answers 404 unless the caller
/// may read that system, before the endpoint runs. Role checks (403) come first, from authorization.
/// </summary>
public sealed class SystemScopeFilter(SystemScope scope) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        if (http.Request.RouteValues.TryGetValue("slug", out var value) && value is string slug && http.User.Identity?.IsAuthenticated == true)
        {
            scope.EnsureReadable(Actor.From(http.User).Person, slug);
        }
        return next(context);
    }
}
