using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Server.Incidents;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Dashboard.Pages;

/// <summary>Incidents: anyone signed in files one and sees their own; the roles with IncidentsReadAll see all.</summary>
public sealed class IncidentsModel(PilotageStore store, ControlPlane control) : DashboardPage
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
        if (await TryAsync(async () => filed = await IncidentEndpoints.FileIncidentAsync(new FileIncidentRequest(System, kind, severity, title, description, null), Me, control, ct)))
        {
            Notice = $"Incident {filed!.Id} filed.";
            return Redirect($"/dashboard/incidents/{filed.Id}");
        }
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Incidents = await IncidentEndpoints.ListIncidentsAsync(null, null, null, Me, store, ct);
        await using var db = store.CreateDbContext();
        Systems = await db.Systems.AsNoTracking().OrderBy(s => s.Slug).Select(s => s.Slug).ToListAsync(ct);
    }
}
