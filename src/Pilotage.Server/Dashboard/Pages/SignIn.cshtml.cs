using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Pilotage.Core.Access;
using Pilotage.Server.Access;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Dashboard.Pages;

/// <summary>Signs in with an API key, checked exactly as the API checks it; failures are counted per address.</summary>
public sealed class SignInModel(PolicyCache policy, TimeProvider time, SignInThrottle throttle, ProviderSignIn provider) : PageModel
{
    public string? Problem { get; private set; }

    /// <summary>Whether the organisation's identity provider is offered (keys stay for break-glass admins).</summary>
    public bool ProviderEnabled => provider.Enabled;

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet(string? problem)
    {
        // Why the identity provider's sign-in failed, by code (the server log has the details).
        Problem = problem switch
        {
            "deactivated" => "Your account is deactivated in Pilotage; ask an admin.",
            "provider" => "The identity provider did not sign you in. Try again, or ask an admin.",
            _ => null,
        };
    }

    public async Task<IActionResult> OnPostAsync(string? token)
    {
        var address = SignInThrottle.AddressOf(HttpContext);
        if (throttle.Blocked(address))
        {
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = ((int)SignInThrottle.Window.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            Problem = $"Too many failed sign-ins from this address: {SignInThrottle.FailuresPerWindow} in {SignInThrottle.Window.TotalMinutes:0} minutes. Wait a few minutes and try again, or ask an admin for a new key.";
            return Page();
        }
        var check = policy.Current.CheckKey(token?.Trim(), time.GetUtcNow());
        Problem = check.Problem switch
        {
            KeyProblem.None => null,
            KeyProblem.Missing => "Paste your API key to sign in.",
            KeyProblem.Revoked => $"API key {check.Key!.Id} was revoked; ask an admin for a new key.",
            KeyProblem.Expired => $"API key {check.Key!.Id} expired at {check.Key.ExpiresAt:u}; ask an admin for a new key.",
            KeyProblem.Deactivated => $"The account {check.Key!.User.Email} is deactivated.",
            _ => "That is not a Pilotage API key we know; check that you pasted all of it.",
        };
        if (Problem is not null)
        {
            throttle.Failed(address);
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        var key = check.Key!;
        await HttpContext.SignInAsync(DashboardSetup.Scheme, ApiKeyAuthenticationHandler.PrincipalFor(key, DashboardSetup.Scheme),
            new AuthenticationProperties { IsPersistent = false });
        if (!string.IsNullOrEmpty(ReturnUrl) && Url.IsLocalUrl(ReturnUrl) && ReturnUrl.StartsWith(DashboardSetup.Root, StringComparison.Ordinal))
        {
            return LocalRedirect(ReturnUrl);
        }
        return LocalRedirect(AccessMatrix.Allows(key.User.Role, Permission.SystemsRead) ? DashboardSetup.Root : YourPage.Path);
    }
}
