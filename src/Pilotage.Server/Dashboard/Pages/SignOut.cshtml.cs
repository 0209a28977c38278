using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Pilotage.Server.Dashboard.Pages;

/// <summary>Ends the session (POST only, with the anti-forgery token, so no link can sign a person out).</summary>
public sealed class SignOutModel : PageModel
{
    public async Task<IActionResult> OnPostAsync()
    {
        if (DashboardProviderSignIn.IsProviderSession(User) && HttpContext.RequestServices.GetRequiredService<ProviderSignIn>().Enabled)
        {
            // At the provider first (it reads the id token from the session), then here; the provider sends the browser back to sign-in.
            await HttpContext.SignOutAsync(DashboardProviderSignIn.Scheme, new AuthenticationProperties { RedirectUri = DashboardSetup.SignInPath });
            await HttpContext.SignOutAsync(DashboardSetup.Scheme);
            return new EmptyResult();
        }
        await HttpContext.SignOutAsync(DashboardSetup.Scheme);
        return LocalRedirect(DashboardSetup.SignInPath);
    }
}
