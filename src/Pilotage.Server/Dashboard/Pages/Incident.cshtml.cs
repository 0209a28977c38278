using Microsoft.AspNetCore.Mvc;
using Pilotage.Core.Access;
using Pilotage.Server.Incidents;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Dashboard.Pages;

public sealed class IncidentModel(IncidentCommands commands, IncidentQueries queries) : DashboardPage
{
    public override Permission Needed => Permission.Self;

    public IncidentView? Incident { get; private set; }

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct) => await LoadAsync(id, ct);

    public async Task<IActionResult> OnPostUpdateAsync(long id, string? status, string? assignedTo, string? reviewNote, CancellationToken ct)
    {
        var request = new UpdateIncidentRequest(
            string.IsNullOrWhiteSpace(status) ? null : status,
            string.IsNullOrWhiteSpace(assignedTo) ? null : assignedTo,
            string.IsNullOrWhiteSpace(reviewNote) ? null : reviewNote,
            null);
        if (await TryAsync(() => commands.UpdateAsync(id, request, Me, ct)))
        {
            Notice = $"Incident {id} updated.";
            return RedirectToPage(new { id });
        }
        var status4xx = Response.StatusCode;
        var result = await LoadAsync(id, ct);
        if (Incident is not null) Response.StatusCode = status4xx;
        return result;
    }

    private async Task<IActionResult> LoadAsync(long id, CancellationToken ct)
    {
        try
        {
            Incident = await queries.GetAsync(id, Me, ct);
            return Page();
        }
        catch (CommandRefusedException refused) when (refused.Status == StatusCodes.Status404NotFound)
        {
            // Also an incident the person may not see: it does not exist for them.
            return NotFound();
        }
    }
}
