using Microsoft.AspNetCore.Mvc;
using Pilotage.Core.Access;
using Pilotage.Server.Systems;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Dashboard.Pages;

public sealed class SystemModel(DashboardData data, LifecycleCommands lifecycle, Changes.ChangeRequestCommands changes, Changes.OwnershipCommands ownership,
    Changes.LegalHoldCommands holds, PolicyOptions options) : DashboardPage
{
    public override Permission Needed => Permission.SystemsRead;

    /// <summary>Pause, resume and decide need what the API's endpoints need.</summary>
    protected override Permission NeededFor(string handler) => handler switch
    {
        "Pause" or "Resume" or "Approve" or "Reject" or "Apply" or "Accept" => Permission.SystemsOperate,
        "Hold" or "Release" => Permission.LegalHold,
        _ => Needed,
    };

    /// <summary>The server setting for orphaned systems: restricted to approval unless PILOTAGE_ORPHANED_SYSTEMS=serve.</summary>
    public bool OrphansRestricted => options.OrphanedSystems == OrphanedSystems.RestrictToApproval;

    /// <summary>The proposed new owner, signed in: only they may accept (an admin cannot on their behalf).</summary>
    public bool MayAccept { get; private set; }

    /// <summary>An auditor or admin: the same permission as the hold endpoints.</summary>
    public bool MayHold { get; private set; }

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
        else if (await TryAsync(() => lifecycle.PauseAsync(slug, reason, Me, ct)))
        {
            Notice = $"{slug} is paused: the gateway refuses its requests until it is resumed.";
            return RedirectToPage(new { slug });
        }
        return await LoadAsync(slug, ct);
    }

    public async Task<IActionResult> OnPostResumeAsync(string slug, string? reason, CancellationToken ct)
    {
        if (await TryAsync(() => lifecycle.ResumeAsync(slug, reason, Me, ct)))
        {
            Notice = $"{slug} is resumed.";
            return RedirectToPage(new { slug });
        }
        return await LoadAsync(slug, ct);
    }

    public async Task<IActionResult> OnPostApproveAsync(string slug, long id, string? reason, CancellationToken ct) =>
        await ChangeAsync(slug, () => changes.ApproveAsync(id, reason, Me, ct), $"Change request {id} is approved.", ct);

    public async Task<IActionResult> OnPostRejectAsync(string slug, long id, string? reason, CancellationToken ct) =>
        await ChangeAsync(slug, () => changes.RejectAsync(id, reason, Me, ct), $"Change request {id} is rejected.", ct);

    public async Task<IActionResult> OnPostApplyAsync(string slug, long id, string? reason, CancellationToken ct)
    {
        string? gateRefusal = null;
        var applied = await TryAsync(async () =>
        {
            var (view, refused) = await changes.ApplyAsync(id, reason, Me, ct);
            if (refused) gateRefusal = Changes.ChangeRequestCommands.GateRefusal(id, view.Gate!);
            else Notice = $"Change request {id} is applied: config version {view.AppliedVersion} is in force from the next request.";
        });
        if (applied && gateRefusal is null) return RedirectToPage(new { slug });
        if (gateRefusal is not null)
        {
            Error = "Regression gate refused: " + gateRefusal;
            Response.StatusCode = StatusCodes.Status409Conflict;
        }
        return await LoadAsync(slug, ct);
    }

    public async Task<IActionResult> OnPostAcceptAsync(string slug, CancellationToken ct) =>
        await ChangeAsync(slug, () => ownership.AcceptAsync(slug, Me, ct), $"You own {slug} now.", ct);

    public async Task<IActionResult> OnPostHoldAsync(string slug, string? reason, CancellationToken ct) =>
        await ChangeAsync(slug, () => holds.PlaceAsync(slug, reason, Me, ct), $"{slug} is under legal hold: none of its content is purged until it is released.", ct);

    public async Task<IActionResult> OnPostReleaseAsync(string slug, string? reason, CancellationToken ct) =>
        await ChangeAsync(slug, () => holds.ReleaseAsync(slug, reason, Me, ct), $"The legal hold on {slug} is released.", ct);

    private async Task<IActionResult> ChangeAsync(string slug, Func<Task> command, string notice, CancellationToken ct)
    {
        if (await TryAsync(command))
        {
            Notice = notice;
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
        MayAccept = Me.Can(Permission.SystemsOperate) && string.Equals(Data.Ownership.PendingOwner, Me.Email, StringComparison.OrdinalIgnoreCase);
        MayHold = Me.Can(Permission.LegalHold);
        return Page();
    }
}
