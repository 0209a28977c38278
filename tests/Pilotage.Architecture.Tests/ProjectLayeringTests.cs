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
        ["Audit", "Changes", "Reports", "Import"],
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

    /// <summary>
    /// Uses of a higher layer not yet removed (issue 26): the control API's one JSON context lists every
    /// feature's payloads (each feature should own its context), and five features still read the host's
    /// <c>PilotageServerOptions</c> instead of options of their own. Each must still exist, so the list
    /// only shrinks.
    /// </summary>
    private static readonly HashSet<(string From, string To)> NotYetRemoved =
    [
        ("Api", "Attention"), ("Api", "Audit"), ("Api", "Changes"), ("Api", "Evidence"), ("Api", "Health"), ("Api", "Import"),
        ("Api", "Incidents"), ("Api", "Keys"), ("Api", "Notifications"), ("Api", "People"), ("Api", "Pilots"),
        ("Api", "Readiness"), ("Api", "Reports"), ("Api", "Reviews"), ("Api", "Systems"),
        ("Policy", "Hosting"), ("Audit", "Hosting"), ("Evidence", "Hosting"), ("Attention", "Hosting"), ("Gateway", "Hosting"), ("Dashboard", "Hosting"),
    ];

    [Fact]
    public void Server_features_only_use_features_below_them_and_form_no_loop()
    {
        var violations = Check("Pilotage.Server", Server, ["Pilotage.Cli"], NotYetRemoved);

        Assert.True(violations.Count == 0, "Pilotage.Server's layering is broken:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Core_features_only_use_features_below_them_and_never_the_server_or_the_cli()
    {
        var violations = Check("Pilotage.Core", Core, ["Pilotage.Server", "Pilotage.Cli"], []);

        Assert.True(violations.Count == 0, "Pilotage.Core's layering is broken:\n" + string.Join("\n", violations));
    }

    private static List<string> Check(string name, Layering layering, string[] forbidden, HashSet<(string From, string To)> notYetRemoved)
    {
        var project = CheckedProject.Load(name);
        var full = ReferenceScanner.Scan(project.Compilation, project.Sources, name, forbidden);
        var stale = notYetRemoved.Where(e => !full.References.Any(r => (r.From, r.To) == e)).Select(e => $"{e.From} → {e.To} no longer exists: remove it from NotYetRemoved");
        var scan = full with { References = [.. full.References.Where(r => !notYetRemoved.Contains((r.From, r.To)))] };
        Assert.True(scan.CompileErrors.Count == 0, "The sources did not compile for the check:\n" + string.Join("\n", scan.CompileErrors.Take(20)));
        var folders = project.Sources.Values
            .Where(s => !string.IsNullOrEmpty(s.Folder))
            .Select(s => s.Folder!.Split('/')[0])
            .Distinct(StringComparer.Ordinal);
        return [.. layering.Violations(scan, folders), .. stale];
    }
}
