using Pilotage.Core.Gateway;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Access;

/// <summary>A signed-in person as the access rules see them: the role, who they are, their groups.</summary>
public sealed record Person(Role Role, string Email, IReadOnlyCollection<string> Groups);

/// <summary>
/// Which people a single system's records concern. <see cref="AccessMatrix"/> says what a role may do at
/// all; these rules say for which systems, so that an owner or a reviewer reaches only their own
/// systems' data. Every read and every write of one system's resources asks them, on the API, the
/// dashboard and the gateway's app endpoints. A caller they turn away is told the resource does not
/// exist (404): no hint that another system, or its records, are there.
/// </summary>
public static class SystemAccess
{
    /// <summary>Admins and auditors read every system; an owner the ones they own (or are being handed); a reviewer the ones they review.</summary>
    public static bool MayRead(Person who, SystemSpec spec, string? pendingOwner = null)
    {
        ArgumentNullException.ThrowIfNull(who);
        ArgumentNullException.ThrowIfNull(spec);
        return who.Role switch
        {
            Role.Admin or Role.Auditor => true,
            Role.Owner => Same(who.Email, spec.Owner) || Same(who.Email, pendingOwner),
            Role.Reviewer => Reviews(who, spec),
            _ => false,
        };
    }

    /// <summary>Reviewers of the system (role reviewer in one of its review groups), its owner and admins. Auditors add no evidence.</summary>
    public static bool MayReview(Person who, SystemSpec? spec)
    {
        ArgumentNullException.ThrowIfNull(who);
        return who.Role == Role.Admin
            || (spec is not null && who.Role == Role.Owner && Same(who.Email, spec.Owner))
            || (spec is not null && who.Role == Role.Reviewer && Reviews(who, spec));
    }

    /// <summary>
    /// In a group the system serves at its current position (a paused or restricted system: the position
    /// it returns to; one that does not serve: its pilot group). Production without stages serves everyone.
    /// </summary>
    public static bool MayUse(Person who, SystemSpec spec, LifecycleState lifecycle)
    {
        ArgumentNullException.ThrowIfNull(who);
        ArgumentNullException.ThrowIfNull(spec);
        var scope = ServingPolicy.ScopeOf(spec, lifecycle)
            ?? (spec.Pilot is { } pilot ? new ServingScope([pilot.Group], pilot.Mode, "pilot") : null);
        return scope is not null && (scope.Everyone || scope.Groups.Any(who.Groups.Contains));
    }

    /// <summary>In a group the system serves at any stage (its pilot group, a rollout stage's groups), or it serves everyone: who its training is for.</summary>
    public static bool IsAudience(Person who, SystemSpec spec)
    {
        ArgumentNullException.ThrowIfNull(who);
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Rollout.Count == 0 && spec.Pilot is null) return true;
        return (spec.Pilot is { } pilot && who.Groups.Contains(pilot.Group))
            || spec.Rollout.Any(stage => stage.Groups.Count == 0 || stage.Groups.Any(who.Groups.Contains));
    }

    /// <summary>
    /// Who may file an incident, a complaint or a support request against the system: the people who use
    /// it now (<see cref="MayUse"/>), its reviewers, its owner and admins. A filing can pause the system
    /// (pause rules on incidents), so nobody else may.
    /// </summary>
    public static bool MayFileIncident(Person who, SystemSpec spec, LifecycleState lifecycle) =>
        MayReview(who, spec) || MayUse(who, spec, lifecycle);

    private static bool Reviews(Person who, SystemSpec spec) => spec.Review.Reviewers.Any(who.Groups.Contains);

    private static bool Same(string? a, string? b) => a is not null && b is not null && string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
