using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Scim;

/// <summary>A SCIM refusal: answered in the SCIM error schema with its status and <c>scimType</c>.</summary>
public sealed class ScimException(int status, string? scimType, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string? ScimType { get; } = scimType;

    public static ScimException BadRequest(string scimType, string detail) => new(StatusCodes.Status400BadRequest, scimType, detail);
    public static ScimException NotFound(string detail) => new(StatusCodes.Status404NotFound, null, detail);
    public static ScimException Conflict(string detail) => new(StatusCodes.Status409Conflict, "uniqueness", detail);
}

/// <summary>A filter Pilotage answers: one attribute compared for equality (<c>userName eq "dana@example.org"</c>).</summary>
public sealed partial record ScimFilter(string Attribute, string Value)
{
    /// <summary>
    /// Reads <paramref name="text"/> when it is exactly <c>ATTRIBUTE eq "VALUE"</c> with one of
    /// <paramref name="attributes"/>; anything else (other operators, <c>and</c>/<c>or</c>, brackets, a second
    /// clause smuggled after the value) is refused with <c>invalidFilter</c>, never half-read.
    /// </summary>
    public static ScimFilter? Parse(string? text, IReadOnlyList<string> attributes)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var how = $"Pilotage filters by {string.Join(" or ", attributes.Select(a => $"{a} eq \"…\""))} only";
        if (text.Length > 1024) throw ScimException.BadRequest("invalidFilter", $"the filter is longer than 1024 characters; {how}");
        var match = Shape().Match(text);
        if (!match.Success) throw ScimException.BadRequest("invalidFilter", $"cannot read the filter '{Shorten(text)}'; {how}");
        var attribute = attributes.FirstOrDefault(a => string.Equals(a, match.Groups["attr"].Value, StringComparison.OrdinalIgnoreCase))
            ?? throw ScimException.BadRequest("invalidFilter", $"cannot filter by '{match.Groups["attr"].Value}'; {how}");
        string value;
        try
        {
            // The quoted value is a JSON string (RFC 7644 §3.4.2.2): its escapes are JSON's.
            value = JsonSerializer.Deserialize(match.Groups["value"].Value, ScimJsonContext.Default.String) ?? "";
        }
        catch (JsonException)
        {
            throw ScimException.BadRequest("invalidFilter", $"the value in '{Shorten(text)}' is not a valid quoted string; {how}");
        }
        return new ScimFilter(attribute, value);
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    [GeneratedRegex("""^\s*(?<attr>[A-Za-z][A-Za-z0-9]{0,63})\s+[eE][qQ]\s+(?<value>"(?:[^"\\]|\\.)*")\s*$""")]
    private static partial Regex Shape();
}

/// <summary>What the SCIM endpoints share: the provider's token, bodies, answers and errors.</summary>
public static class ScimProtocol
{
    /// <summary>The largest SCIM request body: a group replaced with its members is the largest (about 100 bytes a member).</summary>
    public const long MaxBodyBytes = 1024 * 1024;

    /// <summary>The most resources one page lists (RFC 7644 §3.4.2.4: the provider may cap <c>count</c>).</summary>
    public const int MaxPageSize = 1000;

    /// <summary>The audit actor of every change made through SCIM.</summary>
    public const string Actor = "scim";

    public static IResult Json<T>(T value, JsonTypeInfo<T> type, int status = StatusCodes.Status200OK) =>
        Results.Json(value, type, ScimSchemas.ContentType, status);

    public static Task WriteErrorAsync(HttpContext http, int status, string? scimType, string detail)
    {
        if (http.Response.HasStarted) return Task.CompletedTask;
        http.Response.StatusCode = status;
        http.Response.ContentType = ScimSchemas.ContentType;
        if (status == StatusCodes.Status401Unauthorized) http.Response.Headers.WWWAuthenticate = "Bearer realm=\"pilotage-scim\"";
        var error = new ScimError([ScimSchemas.Error], scimType, detail, status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return http.Response.WriteAsync(JsonSerializer.Serialize(error, ScimJsonContext.Default.ScimError));
    }

    /// <summary>Reads a SCIM body of type <typeparamref name="T"/>, within <see cref="MaxBodyBytes"/>; malformed JSON is <c>invalidSyntax</c>.</summary>
    public static async Task<T> ReadAsync<T>(HttpContext http, JsonTypeInfo<T> type) where T : class
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxBodyBytes;
        var contentType = http.Request.ContentType ?? "";
        if (!contentType.StartsWith(ScimSchemas.ContentType, StringComparison.OrdinalIgnoreCase) && !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new ScimException(StatusCodes.Status415UnsupportedMediaType, null, $"send the body as {ScimSchemas.ContentType} (or application/json), not '{contentType}'");
        }
        try
        {
            return await JsonSerializer.DeserializeAsync(http.Request.Body, type, http.RequestAborted)
                ?? throw ScimException.BadRequest("invalidSyntax", "the body is empty (null); send a SCIM resource");
        }
        catch (JsonException e)
        {
            var where = e.Path is { Length: > 0 } path ? $" at {path}" : "";
            throw ScimException.BadRequest("invalidSyntax", $"the body is not valid SCIM JSON{where}: {FirstSentence(e.Message)}");
        }
    }

    private static string FirstSentence(string message) => message.Split(". ", 2)[0].TrimEnd('.');

    /// <summary>RFC 7644 paging: <c>startIndex</c> is 1-based (below 1 means 1), <c>count</c> at most <see cref="MaxPageSize"/>.</summary>
    public static (int Start, int Count) Page(HttpContext http)
    {
        static int? Number(string? text, string name) => string.IsNullOrEmpty(text) ? null
            : int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n
            : throw ScimException.BadRequest("invalidValue", $"{name} must be a whole number, found '{text}'");
        var start = Math.Max(1, Number(http.Request.Query["startIndex"], "startIndex") ?? 1);
        var count = Math.Clamp(Number(http.Request.Query["count"], "count") ?? 100, 0, MaxPageSize);
        return (start, count);
    }
}

/// <summary>
/// The provisioning client's bearer token (<c>PILOTAGE_SCIM_TOKEN</c>), kept only as its SHA-256 and compared in
/// constant time. It is not a person's key: it reaches <c>/scim/v2</c> only, and no key reaches SCIM.
/// </summary>
public sealed class ScimToken
{
    /// <summary>Shorter tokens are refused at start-up: a SCIM token can deactivate anyone.</summary>
    public const int MinimumLength = 32;

    private readonly byte[]? _hash;

    public ScimToken(string? token)
    {
        if (string.IsNullOrEmpty(token)) return;
        if (token.Length < MinimumLength || token.Length > 4096 || token.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"PILOTAGE_SCIM_TOKEN must be {MinimumLength} to 4096 characters without spaces; generate one with 'openssl rand -base64 48'");
        }
        _hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
    }

    public bool Enabled => _hash is not null;

    /// <summary>Null when the header carries the token; otherwise why not, for the 401.</summary>
    public string? Refusal(string? authorization)
    {
        if (_hash is null) return "SCIM provisioning is off: the operator sets PILOTAGE_SCIM_TOKEN on 'pilotage serve' (docs/identity.md)";
        if (string.IsNullOrEmpty(authorization)) return "no credentials: send 'Authorization: Bearer <SCIM token>'";
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return "the Authorization header must be 'Bearer <SCIM token>'";
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(authorization[7..].Trim()));
        return CryptographicOperations.FixedTimeEquals(presented, _hash) ? null : "wrong SCIM token";
    }
}

/// <summary>Every SCIM endpoint: the token first, then any refusal answered in the SCIM error schema, never a 500 page.</summary>
public sealed class ScimEndpointFilter(ScimToken token, ILogger<ScimEndpointFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (token.Refusal(http.Request.Headers.Authorization.ToString()) is { } refusal)
        {
            await ScimProtocol.WriteErrorAsync(http, StatusCodes.Status401Unauthorized, null, refusal);
            return Results.Empty;
        }
        try
        {
            return await next(context);
        }
        catch (ScimException e)
        {
            await ScimProtocol.WriteErrorAsync(http, e.Status, e.ScimType, e.Message);
        }
        catch (CommandRefusedException e)
        {
            var scimType = e.Status switch { 409 => "uniqueness", 400 => "invalidValue", _ => null };
            await ScimProtocol.WriteErrorAsync(http, e.Status, scimType, e.Message);
        }
        catch (BadHttpRequestException e)
        {
            var detail = e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"the request body is larger than {ScimProtocol.MaxBodyBytes / 1024} KB; send fewer members per request"
                : $"the request could not be read: {e.Message}";
            await ScimProtocol.WriteErrorAsync(http, e.StatusCode, null, detail);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "SCIM request {Method} {Path} failed", http.Request.Method, http.Request.Path);
            await ScimProtocol.WriteErrorAsync(http, StatusCodes.Status500InternalServerError, null, "the request failed on the server; it is logged");
        }
        return Results.Empty;
    }
}
