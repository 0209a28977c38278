using Pilotage.Core.Access;

namespace Pilotage.Server.Dashboard.Pages;

/// <summary>Your page: what you may use, your own interactions and their reviews, and how to report a problem. Everyone signed in.</summary>
public sealed class YourPageModel(YourPage page) : DashboardPage
{
    public override Permission Needed => Permission.Self;

    public YourPageData Data { get; private set; } = null!;

    /// <summary>This server's address as the browser reached it: the base of the gateway (<c>/v1</c>).</summary>
    public string Server => $"{Request.Scheme}://{Request.Host}";

    public async Task OnGetAsync(CancellationToken ct) => Data = await page.ReadAsync(Me, ct);
}
