using Pilotage.Core.Access;
using Pilotage.Server.Access;

namespace Pilotage.Server.Systems;

/// <param name="Current">Whether this version is the configuration in force.</param>
public sealed record ConfigVersionView(int Version, string Hash, DateTimeOffset CreatedAt, string CreatedBy, bool Current);

/// <param name="ToVersion">The version whose configuration to restore; by default the latest earlier version with a different configuration.</param>
public sealed record RollbackRequest(int? ToVersion, string? Reason);

/// <param name="RestoredFrom">The version whose configuration was restored.</param>
/// <param name="ConfigVersion">The new version number that now holds it (version numbers only grow).</param>
public sealed record RollbackView(string System, int RestoredFrom, int ConfigVersion, string Hash, string RolledBackBy, DateTimeOffset RolledBackAt, string Reason);

/// <summary>
/// The configuration history of a system (every versioned config + upstream, from <see cref="SystemQueries"/>) and a
/// manual rollback to one of them (<see cref="ConfigVersionCommands"/>).
/// </summary>
public static class ConfigVersionEndpoints
{
    public static void MapConfigVersions(this IEndpointRouteBuilder api)
    {
        var systems = api.MapGroup("/systems").WithTags("Lifecycle");
        systems.MapGet("/{slug}/versions", ListAsync).RequirePermission(Permission.SystemsRead)
            .WithSummary("Every configuration version of a system, oldest first, with the one in force marked");
        systems.MapPost("/{slug}/rollback", RollbackAsync).RequirePermission(Permission.SystemsOperate)
            .WithSummary("Put an earlier configuration version back in force (a reason is required); it takes effect on the next gateway request");
    }

    private static Task<IReadOnlyList<ConfigVersionView>> ListAsync(string slug, SystemQueries systems, CancellationToken ct) =>
        systems.VersionsAsync(slug, ct);

    private static Task<RollbackView> RollbackAsync(string slug, RollbackRequest? request, HttpContext http, ConfigVersionCommands versions, CancellationToken ct) =>
        versions.RollbackAsync(slug, request, Actor.From(http.User), ct);
}
