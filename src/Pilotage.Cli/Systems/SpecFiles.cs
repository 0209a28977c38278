using Pilotage.Core.Specs;
using Pilotage.Server.Systems;

namespace Pilotage.Cli.Systems;

/// <summary>The spec files named by <c>-f</c>: checked locally first, then sent with their names.</summary>
internal sealed record SpecFiles(IReadOnlyList<SpecDocument> Documents, IReadOnlyList<SpecError> Errors)
{
    /// <summary>
    /// Reads every path (a file, or the *.yaml/*.yml files directly in a folder, in name order, as
    /// <see cref="SpecReader.ReadPath"/> does). Any error means nothing is sent, so a typo never costs
    /// a round trip and the server never sees half a change.
    /// </summary>
    public static SpecFiles Load(IReadOnlyList<string> paths)
    {
        var errors = new List<SpecError>();
        foreach (var path in paths) errors.AddRange(SpecReader.ReadPath(path).Errors);
        if (errors.Count > 0) return new SpecFiles([], errors);

        var documents = new List<SpecDocument>();
        foreach (var path in paths)
        {
            var files = Directory.Exists(path)
                ? Directory.GetFiles(path)
                    .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                    .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)
                : (IEnumerable<string>)[path];
            foreach (var file in files)
            {
                try
                {
                    documents.Add(new SpecDocument(Path.GetFileName(file), File.ReadAllText(file)));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The file changed or vanished between the check and the read.
                    errors.Add(new SpecError(Path.GetFileName(file), "", $"cannot read file: {e.Message}", 0, 0));
                }
            }
        }
        return errors.Count > 0 ? new SpecFiles([], errors) : new SpecFiles(documents, []);
    }
}
