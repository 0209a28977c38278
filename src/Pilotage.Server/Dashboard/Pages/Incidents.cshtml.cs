using Microsoft.AspNetCore.Mvc;
using Pilotage.Core.Access;
using Pilotage.Server.Incidents;

namespace Pilotage.Server.Dashboard.Pages;

/// <summary>
/// Incidents: a person files one against a system they use, review or own, and sees their own; the roles
/// with IncidentsReadAll see those of the systems they may read.
/// </summary>
public sealed class IncidentsModel(IncidentCommands commands, IncidentQueries queries) : DashboardPage
{
    public override Permission Needed => Permission.Self;

    public IReadOnlyList<IncidentView> Incidents { get; private set; } = [];

    public IReadOnlyList<string> Systems { get; private set; } = [];

    [BindProperty(SupportsGet = true)]
    public string? System { get; set; }

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostFileAsync(string? kind, string? severity, string? title, string? description, CancellationToken ct)
    {
        IncidentView? filed = null;
        if (await TryAsync(async () => filed = await commands.FileAsync(new FileIncidentRequest(System, kind, severity, title, description, null), Me, ct)))
        {
            Notice = $"Incident {filed!.Id} filed.";
            return Redirect($"/dashboard/incidents/{filed.Id}");
        }
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Incidents = await queries.ListAsync(null, null, null, Me, ct);
        // The form offers only the systems the person may file against (the commands refuse the others).
        Systems = queries.SystemsToFileAgainst(Me);
    }
}
