using Microsoft.EntityFrameworkCore;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Evidence;

/// <summary>
/// The system's data boundary over text people add to its evidence (review final texts and reasons, feedback
/// comments, incident titles, descriptions and review notes): what the gateway would refuse is refused here too
/// (422 naming the field and the detector, never the value), what it would redact is stored redacted.
/// </summary>
internal static class EvidenceBoundary
{
    public static DataBoundaryPolicy PolicyOf(AiSystemRow? system) =>
        system is null ? DataBoundaryPolicy.None : DataBoundaryPolicy.From(SpecCanonicalJson.Deserialize(system.SpecJson).DataBoundary);

    public static async Task<DataBoundaryPolicy> PolicyAsync(PilotageDbContext db, string slug, CancellationToken ct) =>
        PolicyOf(await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct));

    /// <summary>The text as it may be stored; null stays null.</summary>
    /// <exception cref="CommandRefusedException">422: the text holds data the boundary blocks.</exception>
    public static string? Apply(DataBoundaryPolicy policy, string? text, string field, string system)
    {
        if (text is null || policy.IsEmpty) return text;
        BoundaryResult result;
        try
        {
            result = policy.Apply(text, policy.HasTimedPatterns ? new BoundaryBudget(BoundaryBudget.DefaultLimit) : null);
        }
        catch (BoundaryBudgetExceededException e)
        {
            throw Refused(field, system, [e.Detector], "could not be checked in time by");
        }
        if (result.Blocked) throw Refused(field, system, result.BlockedBy, "holds data blocked by");
        return result.Text;
    }

    private static CommandRefusedException Refused(string field, string system, IReadOnlyList<string> detectors, string what) =>
        new(StatusCodes.Status422UnprocessableEntity, "Data boundary",
            $"'{field}' {what} the data boundary of '{system}' ({string.Join(", ", detectors)}); remove it and send again. Nothing was stored.",
            new Dictionary<string, object?> { ["field"] = field, ["detectors"] = detectors.ToArray() });
}
