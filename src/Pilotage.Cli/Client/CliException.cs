using System.Text.Json;
using Pilotage.Server.Systems;

namespace Pilotage.Cli.Client;

/// <summary>Process exit codes, stable for scripts.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The command ran and failed: refused by the server, invalid spec, broken audit chain…</summary>
    public const int Failure = 1;

    /// <summary>The command line itself is wrong (unknown option, bad value, bad --db).</summary>
    public const int Usage = 2;

    /// <summary><c>diff --exit-code</c> found changes, like <c>git diff --exit-code</c>.</summary>
    public const int Changes = 3;

    /// <summary>Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).</summary>
    public const int Cancelled = 130;
}

/// <summary>A failure with a message meant for a person; printed as one <c>error:</c> line.</summary>
internal class CliException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>An RFC 9457 problem returned by the control API.</summary>
internal sealed class ApiProblemException(int status, string message, IReadOnlyList<SpecErrorView> specErrors, JsonElement body = default)
    : CliException(message)
{
    public int Status { get; } = status;

    /// <summary>The located problems of an invalid spec (422), empty otherwise.</summary>
    public IReadOnlyList<SpecErrorView> SpecErrors { get; } = specErrors;

    /// <summary>The problem document as sent (undefined when it was not JSON), for verbs whose errors carry more fields.</summary>
    public JsonElement Body { get; } = body;
}
