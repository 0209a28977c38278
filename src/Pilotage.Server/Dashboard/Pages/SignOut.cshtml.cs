using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Pilotage.Server.Dashboard.Pages;

/// <summary>Ends the session (POST only, with the anti-forgery token, so no link can sign a person out).</summary>
public sealed class SignOutModel : PageModel
{
    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(DashboardSetup.Scheme);
        return LocalRedirect(DashboardSetup.SignInPath);
    }
}
