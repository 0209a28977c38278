
namespace Pilotage.Server.Dashboard;

/// <summary>The dashboard's stylesheet and its one small script, embedded in the assembly: nothing comes from a CDN.</summary>
public static class DashboardAssets
{
    private static readonly Dictionary<string, (string ContentType, byte[] Bytes)> Files = Load();

    internal static IResult Serve(string name, HttpContext http)
    {
        if (!Files.TryGetValue(name, out var file)) return Results.NotFound();
        http.Response.Headers.CacheControl = "public, max-age=3600";
        return Results.Bytes(file.Bytes, file.ContentType);
    }

    private static Dictionary<string, (string, byte[])> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var files = new Dictionary<string, (string, byte[])>(StringComparer.Ordinal);
        foreach (var (name, type) in new[] { ("dashboard.css", "text/css; charset=utf-8"), ("dashboard.js", "text/javascript; charset=utf-8") })
        {
            using var stream = assembly.GetManifestResourceStream("Pilotage.Dashboard." + name)
                ?? throw new InvalidOperationException($"the dashboard asset {name} is not embedded");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name] = (type, copy.ToArray());
        }
        return files;
    }
}
