using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Pilotage.Core.Access;
using Pilotage.Server.Api;

namespace Pilotage.Server.Access;

/// <summary>One authorization policy per <see cref="Permission"/>, each asking <see cref="AccessMatrix"/>.</summary>
public static class PermissionPolicies
{
    public static void AddPermissionPolicies(this AuthorizationOptions options)
    {
        foreach (var permission in Enum.GetValues<Permission>())
        {
            // The scheme is named per policy, so only control API endpoints authenticate against the
            // store; the gateway authenticates from its in-memory snapshot.
            options.AddPolicy(permission.ToString(), policy => policy
                .AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .AddRequirements(new PermissionRequirement(permission)));
        }
    }

    public static TBuilder RequirePermission<TBuilder>(this TBuilder builder, Permission permission)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(permission.ToString());
}

public sealed record PermissionRequirement(Permission Permission) : IAuthorizationRequirement;

public sealed class PermissionHandler : AuthorizationHandler<PermissionRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PermissionRequirement requirement)
    {
        if (context.User.Identity?.IsAuthenticated == true && Actor.From(context.User).Can(requirement.Permission))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}

/// <summary>Turns a refused permission into a 403 problem that says which roles may do it.</summary>
public sealed class PermissionResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden && context.User.Identity?.IsAuthenticated == true)
        {
            var actor = Actor.From(context.User);
            var permission = policy.Requirements.OfType<PermissionRequirement>().FirstOrDefault()?.Permission;
            var allowed = permission is null ? "" : string.Join(", ", Roles.All.Where(r => AccessMatrix.Allows(r, permission.Value)).Select(r => r.ToName()));
            await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "Not allowed",
                $"{actor.Email} has the role '{actor.Role.ToName()}', which may not do this ({permission}); allowed roles: {allowed}. Ask an admin.");
            return;
        }
        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
