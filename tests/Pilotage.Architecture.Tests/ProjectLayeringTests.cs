namespace Pilotage.Architecture.Tests;

/// <summary>
/// The layering of Pilotage.Server and Pilotage.Core as docs/architecture.md draws it. A feature uses
/// only features below it or beside it in its layer, with no loop; Core uses no Server or CLI namespace.
/// </summary>
public sealed class ProjectLayeringTests
{
    /// <summary>Pilotage.Server's feature folders, the bottom layer first.</summary>
    public static readonly Layering Server = new(
        ["Storage"],
        ["Policy", "Api"],
        ["Access", "Identity", "Upstreams", "Replicas"],
        ["Evidence", "People", "Keys", "Health", "Notifications"],
        ["Audit", "Changes", "Reports", "Import", "Scim"],
        ["Systems", "Readiness", "Incidents"],
        ["PauseRules", "Gateway", "Attention", "Reviews"],
        ["Pilots", "Telemetry"],
        ["Dashboard"],
        ["Hosting"]);

    /// <summary>Pilotage.Core's feature folders: pure domain, each usable by the ones above it.</summary>
    public static readonly Layering Core = new(
        ["Metrics", "Audit"],
        ["Specs", "Evidence"],
        ["DataBoundary", "Lifecycle", "TestSets", "PauseRules", "Import", "Incidents", "Pilots"],
        ["Gateway"],
        ["Access"]);

    [Fact]
    public void Server_features_only_use_features_below_them_and_form_no_loop()
    {
        var violations = Check("Pilotage.Server", Server, ["Pilotage.Cli"]);

        Assert.True(violations.Count == 0, "Pilotage.Server's layering is broken:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Core_features_only_use_features_below_them_and_never_the_server_or_the_cli()
    {
        var violations = Check("Pilotage.Core", Core, ["Pilotage.Server", "Pilotage.Cli"]);

        Assert.True(violations.Count == 0, "Pilotage.Core's layering is broken:\n" + string.Join("\n", violations));
    }

    private static List<string> Check(string name, Layering layering, string[] forbidden)
    {
        var project = CheckedProject.Load(name);
        var scan = ReferenceScanner.Scan(project.Compilation, project.Sources, name, forbidden);
        Assert.True(scan.CompileErrors.Count == 0, "The sources did not compile for the check:\n" + string.Join("\n", scan.CompileErrors.Take(20)));
        var folders = project.Sources.Values
            .Where(s => !string.IsNullOrEmpty(s.Folder))
            .Select(s => s.Folder!.Split('/')[0])
            .Distinct(StringComparer.Ordinal);
        return [.. layering.Violations(scan, folders)];
    }
}
