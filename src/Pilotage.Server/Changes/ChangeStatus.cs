using Pilotage.Core.Specs;

namespace Pilotage.Server.Changes;

/// <summary>Where a change request stands; <see cref="ChangeStatuses.Name"/> is its one spelling (API, store, audit).</summary>
public enum ChangeStatus { Open, Approved, Rejected, Applied, Withdrawn }

public static class ChangeStatuses
{
    public static IReadOnlyList<ChangeStatus> All { get; } = Enum.GetValues<ChangeStatus>();

    public static string Name(this ChangeStatus status) => SpecEnum.ToName(status);

    /// <summary>The status a stored or requested name spells; null for anything else.</summary>
    public static ChangeStatus? Parse(string? name) => SpecEnum.TryParse<ChangeStatus>(name, out var status) ? status : null;

    /// <summary>Open and approved requests still wait for someone (approval, or applying).</summary>
    public static bool IsPending(string status) => Parse(status) is ChangeStatus.Open or ChangeStatus.Approved;
}
