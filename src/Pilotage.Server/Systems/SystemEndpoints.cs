using System.Text;
using System.Text.Json;
using Pilotage.Core.Access;
using Pilotage.Core.Specs;
using Pilotage.Server.Access;
using Pilotage.Server.Api;

namespace Pilotage.Server.Systems;

public static class SystemEndpoints
{
    public static void MapSystems(this IEndpointRouteBuilder api)
    {
        var systems = api.MapGroup("/systems").WithTags("Systems");
        systems.MapGet("/", (HttpContext http, SystemCatalog catalog, SystemScope scope, CancellationToken ct) =>
                catalog.ListAsync(scope.Restriction(Actor.From(http.User).Person), ct))
            .RequirePermission(Permission.SystemsRead).WithSummary("List the AI systems you may see (owners: theirs; reviewers: the ones they review) with their lifecycle stage");
        systems.MapGet("/{slug}", (string slug, SystemCatalog catalog, CancellationToken ct) => catalog.GetAsync(slug, ct))
            .RequirePermission(Permission.SystemsRead).WithSummary("One system with its applied spec");
        systems.MapPost("/apply", async (HttpContext http, SystemCatalog catalog, Upstreams.UpstreamPolicy upstreams, bool? allowPast, CancellationToken ct) =>
            {
                var specs = await catalog.ReadAsync(await ReadDocumentsAsync(http, ct), allowPast == true, ct);
                await CheckUpstreamsAsync(specs, upstreams, ct);
                var response = WithNotes(await catalog.ApplyAsync(specs, Actor.From(http.User), ct), specs);
                // 202: a config change of a system past its pilot was accepted as a change request, not put in force.
                return response.Results.Any(r => r.ChangeRequest is not null)
                    ? Results.Json(response, SystemsApiJsonContext.Default.ApplyResponse, statusCode: StatusCodes.Status202Accepted)
                    : Results.Json(response, SystemsApiJsonContext.Default.ApplyResponse);
            })
            .RequirePermission(Permission.SystemsWrite).WithSummary("Apply specs (YAML, multi-document) idempotently; all or nothing. A pilot end date in the past is refused unless ?allowPast=true (importing a past pilot, recorded as such)")
            .Accepts<ApplyRequest>("application/json", "application/yaml");
        systems.MapPost("/diff", async (HttpContext http, SystemCatalog catalog, Upstreams.UpstreamPolicy upstreams, bool? allowPast, CancellationToken ct) =>
            {
                var specs = await catalog.ReadAsync(await ReadDocumentsAsync(http, ct), allowPast == true, ct);
                await CheckUpstreamsAsync(specs, upstreams, ct);
                return WithNotes(await catalog.DiffAsync(specs, Actor.From(http.User), ct), specs);
            })
            .RequirePermission(Permission.SystemsWrite).WithSummary("Show what applying the specs would change")
            .Accepts<ApplyRequest>("application/json", "application/yaml");
    }

    /// <summary>
    /// Each system's notes: the custom data-boundary patterns that need the backtracking engine, so run with a timeout
    /// that refuses the request when it runs out (the others run in linear time and need no note).
    /// </summary>
    private static ApplyResponse WithNotes(ApplyResponse response, IReadOnlyList<SystemSpec> specs)
    {
        var notes = specs.ToDictionary(
            s => s.Name,
            s => s.DataBoundary.Detectors.Select(d => Core.DataBoundary.CustomPattern.Of(d.Pattern).Note(d.Name)).OfType<string>().ToArray(),
            StringComparer.Ordinal);
        return response with
        {
            Results = [.. response.Results.Select(r => notes.TryGetValue(r.Slug, out var n) && n.Length > 0 ? r with { Notes = n } : r)],
        };
    }

    /// <summary>
    /// The operator's upstream policy (docs/security.md): which key variable a spec may name, and which addresses its
    /// upstream may have. Refused like any other invalid spec, 422 with every error, before anything is applied.
    /// </summary>
    private static async Task CheckUpstreamsAsync(IReadOnlyList<SystemSpec> specs, Upstreams.UpstreamPolicy upstreams, CancellationToken ct)
    {
        var errors = new List<SpecError>();
        foreach (var spec in specs) errors.AddRange(await upstreams.CheckAsync(spec, ct));
        if (errors.Count == 0) return;
        throw new Storage.CommandRefusedException(StatusCodes.Status422UnprocessableEntity, "Invalid spec",
            $"{errors.Count} problem(s) found; nothing was applied. {string.Join("; ", errors.Take(3))}{(errors.Count > 3 ? "; …" : "")}",
            new Dictionary<string, object?> { ["errors"] = errors.Select(SpecErrorView.From).ToList() });
    }

    /// <summary>Accepts raw YAML (curl-friendly) or the CLI's JSON envelope, which keeps each file's name for error messages.</summary>
    private static async Task<IReadOnlyList<SpecDocument>> ReadDocumentsAsync(HttpContext http, CancellationToken ct)
    {
        if (http.Request.ContentLength > SystemCatalog.MaxRequestBytes)
        {
            throw new Storage.CommandRefusedException(StatusCodes.Status413PayloadTooLarge, "Too large",
                $"the request is {http.Request.ContentLength / 1024.0 / 1024.0:0.0} MB; apply at most {SystemCatalog.MaxRequestBytes / 1024 / 1024} MB at a time, with spec files of at most {SpecReader.MaxFileBytes / 1024 / 1024} MB each");
        }
        var contentType = http.Request.ContentType ?? "";
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, ct);
        if (buffer.Length > SystemCatalog.MaxRequestBytes)
        {
            throw new Storage.CommandRefusedException(StatusCodes.Status413PayloadTooLarge, "Too large", $"apply at most {SystemCatalog.MaxRequestBytes / 1024 / 1024} MB at a time");
        }
        if (contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                buffer.Position = 0;
                var request = await JsonSerializer.DeserializeAsync(buffer, SystemsApiJsonContext.Default.ApplyRequest, ct);
                return request?.Documents ?? [];
            }
            catch (JsonException e)
            {
                throw Problems.BadRequest($"the JSON body is malformed ({e.Message}); expected {{\"documents\":[{{\"source\":\"file.yaml\",\"yaml\":\"...\"}}]}}");
            }
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (DecoderFallbackException)
        {
            throw Problems.BadRequest("the body is not valid UTF-8; save the spec as UTF-8");
        }
        return [new SpecDocument(http.Request.Query["source"].FirstOrDefault() ?? "request", text)];
    }
}
