namespace Pilotage.Core.Incidents;

/// <summary>
/// The statuses an incident, complaint or support request moves through, as a pure function.
/// Allowed: open → investigating → resolved → reviewed; open → resolved (a quick fix);
/// resolved → investigating (reopened). Closing (→ reviewed) a high or critical one needs a
/// post-incident review note. Everything else is refused with the reason and the way forward.
/// </summary>
public static class IncidentMachine
{
    public static IncidentTransition Apply(IncidentState state, IncidentCommand command)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(command);
        var what = $"this {state.Kind.Describe()}";
        var from = state.Status;
        var to = command.To;
        if (from == to)
        {
            return IncidentTransition.Refused(state, $"{what} is already {to.ToName()}");
        }
        if (from == IncidentStatus.Reviewed)
        {
            return IncidentTransition.Refused(state,
                $"{what} is closed (reviewed) and cannot move to {to.ToName()}; if the problem came back, file a new one and link the same interactions");
        }
        var allowed = (from, to) switch
        {
            (IncidentStatus.Open, IncidentStatus.Investigating) => true,
            (IncidentStatus.Open, IncidentStatus.Resolved) => true,
            (IncidentStatus.Investigating, IncidentStatus.Resolved) => true,
            (IncidentStatus.Resolved, IncidentStatus.Investigating) => true,
            (IncidentStatus.Resolved, IncidentStatus.Reviewed) => true,
            _ => false,
        };
        if (!allowed)
        {
            return IncidentTransition.Refused(state, RefusalFor(what, from, to));
        }

        var note = string.IsNullOrWhiteSpace(command.ReviewNote) ? state.ReviewNote : command.ReviewNote.Trim();
        if (to == IncidentStatus.Reviewed && state.Severity.NeedsReview() && string.IsNullOrWhiteSpace(note))
        {
            return IncidentTransition.Refused(state,
                $"a {state.Severity.ToName()} {state.Kind.Describe()} cannot close without its post-incident review: add a review note");
        }
        return IncidentTransition.To(state with { Status = to, ReviewNote = note });
    }

    private static string RefusalFor(string what, IncidentStatus from, IncidentStatus to) => (from, to) switch
    {
        (IncidentStatus.Open, IncidentStatus.Reviewed) =>
            $"{what} is still open; it is reviewed only after it is resolved: move it to resolved first",
        (IncidentStatus.Investigating, IncidentStatus.Reviewed) =>
            $"{what} is still being investigated; it is reviewed only after it is resolved: move it to resolved first",
        (IncidentStatus.Investigating, IncidentStatus.Open) =>
            $"{what} is already being investigated and cannot go back to open; move it to resolved when it is fixed",
        (IncidentStatus.Resolved, IncidentStatus.Open) =>
            $"{what} is resolved; to reopen it, move it to investigating",
        _ => $"{what} cannot move from {from.ToName()} to {to.ToName()}",
    };
}
