using Microsoft.AspNetCore.Mvc;
using Pilotage.Core.Access;

namespace Pilotage.Server.Dashboard.Pages;

/// <summary>
/// The portfolio, for the roles that read every system. Everyone else (a member) has their own page
/// instead: the dashboard's address takes them there rather than to a refusal.
/// </summary>
public sealed class PortfolioModel(DashboardData data) : DashboardPage
{
    public override Permission Needed => Permission.Self;

    public IReadOnlyList<PortfolioRow> Rows { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!Me.Can(Permission.SystemsRead)) return Redirect(YourPage.Path);
        Rows = await data.PortfolioAsync(Me, ct);
        return Page();
    }
}
