using System.Text.Json;
using Pilotage.Core.Specs;
using Pilotage.Server.Changes;

namespace Pilotage.Server.Systems;

/// <param name="Orphaned">Its owner is deactivated: nobody is accountable until a new owner accepts it (docs/change-control.md).</param>
/// <param name="PendingOwner">A proposed new owner who has not accepted yet.</param>
public sealed record SystemSummary(
    string Slug, string Title, string Owner, string Risk, string Phase, int Stage, string? StageName,
    int ConfigVersion, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, bool Orphaned = false, string? PendingOwner = null);

public sealed record SystemDetail(SystemSummary System, string Purpose, string SpecHash, JsonElement Spec);

public sealed record SpecDocument(string? Source, string? Yaml);
public sealed record ApplyRequest(IReadOnlyList<SpecDocument>? Documents);

/// <param name="Action">For apply: created, updated, unchanged or change_requested. For diff: create, update, change_request or none.</param>
/// <param name="ChangeRequest">The change request that holds the config/upstream change of a system past its pilot (docs/change-control.md).</param>
/// <param name="Notes">What the owner should know about how the spec will run (a custom data-boundary pattern that runs with a timeout); null when nothing.</param>
public sealed record ApplyResult(string Slug, string Action, int ConfigVersion, IReadOnlyList<SpecChangeView> Changes, long? ChangeRequest = null, IReadOnlyList<string>? Notes = null);
public sealed record ApplyResponse(bool Changed, IReadOnlyList<ApplyResult> Results);

public sealed record SpecErrorView(string Source, string Path, string Message, int Line, int Column)
{
    public static SpecErrorView From(SpecError e) => new(e.Source, e.Path, e.Message, e.Line, e.Column);
}
