using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Api;

/// <summary>RFC 9457 problem details for every control API error.</summary>
public static class Problems
{
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail, IReadOnlyDictionary<string, object?>? extensions = null)
    {
        if (context.Response.HasStarted) return;
        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Instance = context.Request.Path };
        if (extensions is not null)
        {
            foreach (var (key, value) in extensions) problem.Extensions[key] = value;
        }
        var service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await service.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    public static CommandRefusedException BadRequest(string detail) => new(StatusCodes.Status400BadRequest, "Bad request", detail);
    public static CommandRefusedException NotFound(string detail) => new(StatusCodes.Status404NotFound, "Not found", detail);
    public static CommandRefusedException Conflict(string detail) => new(StatusCodes.Status409Conflict, "Conflict", detail);
    public static CommandRefusedException Forbidden(string detail) => new(StatusCodes.Status403Forbidden, "Not allowed", detail);
}

/// <summary>
/// Maps refusals and bad requests to problem details; anything else becomes a 500 problem without
/// internals, and is logged. No request can take the server down.
/// </summary>
public sealed class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case CommandRefusedException refused:
                await Problems.WriteAsync(httpContext, refused.Status, refused.Title, refused.Message, refused.Extensions);
                return true;
            case BadHttpRequestException bad:
                var detail = bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? "the request body is too large; split it (one spec file per system) or send less"
                    : $"the request could not be read: {bad.Message}";
                await Problems.WriteAsync(httpContext, bad.StatusCode, "Bad request", detail);
                return true;
            case OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested:
                return true;
            default:
                logger.LogError(exception, "Unhandled error on {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
                await Problems.WriteAsync(httpContext, StatusCodes.Status500InternalServerError, "Internal error",
                    "the server failed to handle this request; it has been logged. Retry, and report it if it persists.");
                return true;
        }
    }
}
