using Pilotage.Core.Access;

namespace Pilotage.Server.Dashboard.Pages;

public sealed class PortfolioModel(DashboardData data) : DashboardPage
{
    public override Permission Needed => Permission.SystemsRead;

    public IReadOnlyList<PortfolioRow> Rows { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct) => Rows = await data.PortfolioAsync(Me, ct);
}
