using System.Net;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Pilotage.Core.Access;
using Pilotage.Server.Access;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Dashboard;

/// <summary>
/// Every signed-in dashboard page: asks the same <see cref="AccessMatrix"/> as the API for its
/// <see cref="Needed"/> permission before any handler runs, and answers 403 with the roles that may.
/// </summary>
public abstract class DashboardPage : PageModel
{
    /// <summary>What a person must be allowed to do to open this page at all.</summary>
    public abstract Permission Needed { get; }

    /// <summary>What a person must be allowed to do to submit a form: a page may be readable by more roles than may act on it.</summary>
    protected virtual Permission NeededFor(string handler) => Needed;

    public Actor Me { get; private set; } = null!;

    /// <summary>A command the page refused (shown at the top, in the words the API would use).</summary>
    public string? Error { get; set; }

    [TempData]
    public string? Notice { get; set; }

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        Me = Actor.From(User);
        var needed = context.HandlerMethod?.Name is { Length: > 0 } handler ? NeededFor(handler) : Needed;
        if (!Me.Can(Needed) || !Me.Can(needed))
        {
            context.Result = ForbiddenPage(Me, Me.Can(Needed) ? needed : Needed);
            return;
        }
        // A page about one system, like the API's routes: to a person who may not read it, it does not exist.
        if (RouteData.Values.TryGetValue("slug", out var slug) && slug is string system
            && !HttpContext.RequestServices.GetRequiredService<SystemScope>().MayRead(Me.Person, system))
        {
            context.Result = NotFound();
            return;
        }
        await next();
    }

    /// <summary>Runs a command; a refusal becomes <see cref="Error"/> and the HTTP status it would have on the API.</summary>
    protected async Task<bool> TryAsync(Func<Task> command)
    {
        try
        {
            await command();
            return true;
        }
        catch (CommandRefusedException refused)
        {
            Error = refused.Message;
            Response.StatusCode = refused.Status;
            return false;
        }
    }

    public static string RolesAllowed(Permission permission) =>
        string.Join(", ", Roles.All.Where(r => AccessMatrix.Allows(r, permission)).Select(r => r.ToName()));

    /// <summary>The refusal page. Plain markup on purpose: it must render whatever the page's model would have needed.</summary>
    internal static ContentResult ForbiddenPage(Actor me, Permission needed)
    {
        static string E(string text) => WebUtility.HtmlEncode(text);
        var html = $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Not allowed · Pilotage</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/dashboard/assets/dashboard.css"></head>
            <body><header class="top"><a class="brand" href="/dashboard">Pilotage</a><span class="who">{E(me.Email)} · {E(me.Role.ToName())}</span></header>
            <main id="main" class="narrow"><h1>Not allowed</h1>
            <p class="alert bad" id="forbidden">{E(me.Email)} has the role <strong>{E(me.Role.ToName())}</strong>, which may not open this page.
            It needs the permission <code>{E(needed.ToString())}</code>, which these roles have: <strong>{E(RolesAllowed(needed))}</strong>. Ask an admin.</p>
            <p><a href="/dashboard/me">Go to your page</a> (what you may use, your own requests, how to report a problem), which everyone signed in may open, or <a href="/dashboard/sign-in">sign in with another key</a>.</p></main></body></html>
            """;
        return new ContentResult { StatusCode = StatusCodes.Status403Forbidden, ContentType = "text/html; charset=utf-8", Content = html };
    }
}
