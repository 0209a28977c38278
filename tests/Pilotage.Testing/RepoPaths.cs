namespace Pilotage.Testing;

/// <summary>Locations inside the repository checkout, independent of the test's working directory.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The folder containing <c>Pilotage.slnx</c>.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>Path of <paramref name="file"/> under <c>examples/</c>.</summary>
    public static string Examples(string file) => Path.Combine(Root, "examples", file);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pilotage.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException(
            $"Could not find Pilotage.slnx in {AppContext.BaseDirectory} or any parent folder.");
    }
}
