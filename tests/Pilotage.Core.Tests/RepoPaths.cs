namespace Pilotage.Core.Tests;

/// <summary>Finds repository files from the test output folder, wherever the repository is checked out.</summary>
internal static class RepoPaths
{
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pilotage.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Pilotage.slnx not found above " + AppContext.BaseDirectory);
    }

    public static string Example(string name) => Path.Combine(Root(), "examples", name);
}
