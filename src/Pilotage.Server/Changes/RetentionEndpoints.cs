using Pilotage.Core.Access;
using Pilotage.Server.Access;
using Pilotage.Server.Api;

namespace Pilotage.Server.Changes;

/// <summary>The retention routes: a purge through <see cref="RetentionCommands"/>, legal holds through <see cref="LegalHoldCommands"/>.</summary>
public static class RetentionEndpoints
{
    public static void MapRetention(this IEndpointRouteBuilder api)
    {
        var systems = api.MapGroup("/systems").WithTags("Change control");
        systems.MapPost("/{slug}/purge", PurgeAsync).RequirePermission(Permission.SystemsOperate)
            .WithSummary("Blank raw content older than the retention period (or olderThanDays), keeping hashes, figures and review outcomes; refused under legal hold");
        systems.MapPost("/{slug}/hold", (string slug, HoldRequest? request, HttpContext http, LegalHoldCommands holds, CancellationToken ct) =>
                holds.PlaceAsync(slug, request?.Reason, Actor.From(http.User), ct))
            .RequirePermission(Permission.LegalHold)
            .WithSummary("Place a legal hold (auditor or admin): no content of the system is purged until it is released");
        systems.MapPost("/{slug}/hold/release", (string slug, HoldRequest? request, HttpContext http, LegalHoldCommands holds, CancellationToken ct) =>
                holds.ReleaseAsync(slug, request?.Reason, Actor.From(http.User), ct))
            .RequirePermission(Permission.LegalHold)
            .WithSummary("Release a legal hold (auditor or admin); purging resumes");
    }

    private static Task<PurgeView> PurgeAsync(string slug, PurgeRequest? request, HttpContext http, RetentionCommands retention, CancellationToken ct) =>
        retention.PurgeAsync(slug, request?.OlderThanDays, Actor.From(http.User), ct);
}

/// <summary>A purge a person asks for; the background purges go to <see cref="RetentionPurger"/> directly.</summary>
public sealed class RetentionCommands(RetentionPurger purger)
{
    /// <summary>Blanks the system's raw content older than <paramref name="olderThanDays"/> (or its retention period); always audited.</summary>
    public async Task<PurgeView> PurgeAsync(string slug, int? olderThanDays, Actor actor, CancellationToken ct)
    {
        if (olderThanDays is < 1) throw Problems.BadRequest($"olderThanDays must be 1 or more, not {olderThanDays}");
        return (await purger.PurgeAsync(slug, olderThanDays, actor, auditEmpty: true, ct))!;
    }
}
