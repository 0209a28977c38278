using System.Text;
using Microsoft.AspNetCore.Mvc;
using Pilotage.Core.Access;
using Pilotage.Server.Reports;
using Pilotage.Server.Systems;

namespace Pilotage.Server.Dashboard.Pages;

public sealed class ReportModel(DashboardData data, ReportQueries reports, LifecycleCommands lifecycle) : DashboardPage
{
    /// <summary>The outcomes the decision form offers (extending a pilot is the CLI's, with its new end date).</summary>
    public static readonly IReadOnlyList<string> Outcomes = DecisionOutcomes.All.Where(o => o != DecisionOutcome.Extend).Select(o => o.Name()).ToList();

    public override Permission Needed => Permission.SystemsRead;

    /// <summary>Pause, resume and decide need what the API's endpoints need.</summary>
    protected override Permission NeededFor(string handler) => handler is "Decide" ? Permission.SystemsOperate : Needed;

    public EvidenceReport? Report { get; private set; }

    public bool MayDecide { get; private set; }

    public async Task<IActionResult> OnGetAsync(string slug, CancellationToken ct) => await LoadAsync(slug, ct);

    /// <summary>The whole report as the API renders it (one self-contained page, no script).</summary>
    public async Task<IActionResult> OnGetFullAsync(string slug, CancellationToken ct)
    {
        if (!await data.ExistsAsync(slug, ct)) return NotFound();
        var rendered = await reports.RenderAsync(await reports.BuildAsync(slug, ct), ReportFileFormat.Html);
        return Content(rendered.Body, rendered.ContentType, Encoding.UTF8);
    }

    public async Task<IActionResult> OnPostDecideAsync(string slug, string? outcome, string? reason, bool @override, CancellationToken ct)
    {
        if (@override && string.IsNullOrWhiteSpace(reason))
        {
            Error = "An override needs a reason that says why you decide against the recommendation.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
        else if (await TryAsync(() => lifecycle.DecideAsync(slug, new DecisionRequest(outcome, reason, null, @override), Me, ct)))
        {
            Notice = $"Decision '{outcome}' recorded for {slug}.";
            return Redirect($"/dashboard/systems/{Uri.EscapeDataString(slug)}");
        }
        return await LoadAsync(slug, ct);
    }

    private async Task<IActionResult> LoadAsync(string slug, CancellationToken ct)
    {
        if (!await data.ExistsAsync(slug, ct)) return NotFound();
        Report = await reports.BuildAsync(slug, ct);
        MayDecide = Me.Can(Permission.SystemsOperate)
            && (Me.Role == Role.Admin || string.Equals(Report.System.Owner, Me.Email, StringComparison.OrdinalIgnoreCase));
        return Page();
    }
}
