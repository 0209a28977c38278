using Microsoft.AspNetCore.Mvc;
using Pilotage.Core.Access;
using Pilotage.Server.Storage;
using Pilotage.Server.Systems;

namespace Pilotage.Server.Dashboard.Pages;

public sealed class SystemModel(DashboardData data, ControlPlane control) : DashboardPage
{
    public override Permission Needed => Permission.SystemsRead;

    /// <summary>Pause, resume and decide need what the API's endpoints need.</summary>
    protected override Permission NeededFor(string handler) => handler is "Pause" or "Resume" ? Permission.SystemsOperate : Needed;

    public SystemPageData? Data { get; private set; }

    /// <summary>The owner of this system or an admin: the same rule the pause endpoint enforces.</summary>
    public bool MayOperate { get; private set; }

    public async Task<IActionResult> OnGetAsync(string slug, CancellationToken ct) => await LoadAsync(slug, ct);

    public async Task<IActionResult> OnPostPauseAsync(string slug, string? reason, string? confirm, CancellationToken ct)
    {
        if (confirm != "yes")
        {
            Error = "Tick the confirmation box to pause: pausing stops the system's next request.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
        else if (string.IsNullOrWhiteSpace(reason))
        {
            Error = "Say why you pause the system: the reason is kept in the audit trail.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
        else if (await TryAsync(() => LifecycleEndpoints.PauseSystemAsync(slug, reason, Me, control, ct)))
        {
            Notice = $"{slug} is paused: the gateway refuses its requests until it is resumed.";
            return RedirectToPage(new { slug });
        }
        return await LoadAsync(slug, ct);
    }

    public async Task<IActionResult> OnPostResumeAsync(string slug, string? reason, CancellationToken ct)
    {
        if (await TryAsync(() => LifecycleEndpoints.ResumeSystemAsync(slug, reason, Me, control, ct)))
        {
            Notice = $"{slug} is resumed.";
            return RedirectToPage(new { slug });
        }
        return await LoadAsync(slug, ct);
    }

    private async Task<IActionResult> LoadAsync(string slug, CancellationToken ct)
    {
        if (!await data.ExistsAsync(slug, ct)) return NotFound();
        Data = await data.SystemAsync(slug, Me, ct);
        MayOperate = Me.Can(Permission.SystemsOperate)
            && (Me.Role == Role.Admin || string.Equals(Data.Report.System.Owner, Me.Email, StringComparison.OrdinalIgnoreCase));
        return Page();
    }
}
