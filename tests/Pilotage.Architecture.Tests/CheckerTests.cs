namespace Pilotage.Architecture.Tests;

/// <summary>
/// The checker itself, on small made-up projects: each way of using a higher feature is caught, and a
/// clean layering passes. Without these a checker that found nothing would look like a green build.
/// </summary>
public sealed class CheckerTests
{
    // Two layers: App.Low below App.High.
    private static readonly Layering TwoLayers = new(["Low"], ["High"]);

    private const string Low = "namespace App.Low;\npublic sealed class Ledger { public static int Count => 1; }\n";
    private const string High = "namespace App.High;\npublic sealed class Screen { public int Show() => App.Low.Ledger.Count; }\n";

    private static IReadOnlyList<string> Check(Layering layering, params (string Path, string Text)[] files)
    {
        var project = CheckedProject.Compile("App", files.Select(f => new SourceFile(f.Path, Path.GetDirectoryName(f.Path)!.Replace('\\', '/'), f.Text)));
        var scan = ReferenceScanner.Scan(project.Compilation, project.Sources, "App", ["Forbidden"]);
        Assert.Empty(scan.CompileErrors);
        var folders = files.Select(f => f.Path.Split('/')[0]).Where(f => !f.EndsWith(".cs", StringComparison.Ordinal)).Distinct();
        return layering.Violations(scan, folders);
    }

    [Fact]
    public void A_downward_reference_passes()
    {
        Assert.Empty(Check(TwoLayers, ("Low/Ledger.cs", Low), ("High/Screen.cs", High)));
    }

    [Fact]
    public void An_unused_using_of_a_higher_feature_is_an_upward_reference()
    {
        var violations = Check(TwoLayers, ("Low/Ledger.cs", "using App.High;\n" + Low), ("High/Screen.cs", High));

        var violation = Assert.Single(violations, v => v.StartsWith("upward reference", StringComparison.Ordinal));
        Assert.Contains("Low → High: using App.High (Low/Ledger.cs:1)", violation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_partial_qualification_through_the_enclosing_namespace_is_an_upward_reference()
    {
        var low = "namespace App.Low;\npublic sealed class Ledger\n{\n    public static string Name => nameof(High.Screen);\n    public static int Count => 1;\n}\n";

        var violations = Check(TwoLayers, ("Low/Ledger.cs", low), ("High/Screen.cs", High));

        Assert.Contains(violations, v => v.StartsWith("upward reference Low → High: High (namespace App.High) (Low/Ledger.cs:4)", StringComparison.Ordinal));
    }

    [Fact]
    public void A_full_qualification_an_inferred_type_and_an_extension_method_are_each_upward_references()
    {
        var high = "namespace App.High;\npublic sealed class Screen { public static Screen Make() => new(); }\npublic static class ScreenExtensions { public static int Twice(this int n) => n * 2; }\n";
        var low = "namespace App.Low;\npublic sealed class Ledger\n{\n    public object A() => new global::App.High.Screen();\n    public object B() { var s = App.High.Screen.Make(); return s; }\n    public int C() => global::App.High.ScreenExtensions.Twice(1) + 2.Twice();\n}\n";

        var violations = Check(TwoLayers, ("Low/Ledger.cs", "using App.High;\n" + low), ("High/Screen.cs", high));

        Assert.Contains(violations, v => v.Contains("Screen (App.High.Screen) (Low/Ledger.cs:5)", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("var (App.High.Screen) (Low/Ledger.cs:6)", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("Twice (App.High.ScreenExtensions.Twice) (Low/Ledger.cs:7)", StringComparison.Ordinal));
    }

    [Fact]
    public void A_target_typed_new_of_a_higher_feature_type_is_an_upward_reference()
    {
        var high = "namespace App.High;\npublic sealed class Screen;\n";
        var low = "namespace App.Low;\npublic sealed class Ledger\n{\n    public void Take(App.High.Screen s) { }\n    public void Call() => Take(new());\n}\n";

        var violations = Check(TwoLayers, ("Low/Ledger.cs", low), ("High/Screen.cs", high));

        Assert.Contains(violations, v => v.Contains("new() (App.High.Screen) (Low/Ledger.cs:5)", StringComparison.Ordinal));
    }

    [Fact]
    public void Features_of_one_layer_that_use_each_other_form_a_loop()
    {
        var sameLayer = new Layering(["Pilots", "Gateway"]);
        var gateway = "namespace App.Gateway;\npublic sealed class Service { public int Runs => App.Pilots.Registry.Count; }\n";
        var pilots = "namespace App.Pilots;\npublic sealed class Registry { public static int Count => 0; public string Name => nameof(Gateway.Service); }\n";

        var violations = Check(sameLayer, ("Gateway/Service.cs", gateway), ("Pilots/Registry.cs", pilots));

        var loop = Assert.Single(violations);
        Assert.StartsWith("dependency loop Gateway → Pilots → Gateway", loop, StringComparison.Ordinal);
    }

    [Fact]
    public void A_namespace_that_does_not_follow_its_folder_is_reported()
    {
        var violations = Check(TwoLayers, ("Low/Ledger.cs", Low.Replace("App.Low", "App.High", StringComparison.Ordinal)), ("High/Screen.cs", "namespace App.High;\npublic sealed class Screen;\n"));

        Assert.Contains("Low/Ledger.cs declares namespace App.High; its folder says App.Low", violations);
    }

    [Fact]
    public void A_type_in_the_project_root_namespace_is_reported()
    {
        var root = "namespace App;\npublic sealed class Shared;\n";
        var low = "namespace App.Low;\npublic sealed class Ledger { public Shared? S { get; init; } }\n";

        var violations = Check(TwoLayers, ("Shared.cs", root), ("Low/Ledger.cs", low), ("High/Screen.cs", "namespace App.High;\npublic sealed class Screen;\n"));

        Assert.Contains("Shared.cs is at the project's root; code belongs in a feature folder", violations);
        Assert.Contains(violations, v => v.Contains("Low → : Shared", StringComparison.Ordinal));
    }

    [Fact]
    public void A_folder_without_a_layer_and_a_forbidden_namespace_are_reported()
    {
        var forbidden = "namespace Forbidden.Host;\npublic sealed class Server;\n";
        var low = "namespace App.Low;\npublic sealed class Ledger { public Forbidden.Host.Server? S { get; init; } public static int Count => 1; }\n";

        var violations = Check(TwoLayers, ("Low/Ledger.cs", low), ("High/Screen.cs", High), ("Extra/Thing.cs", "namespace App.Extra;\npublic sealed class Thing;\n"), ("Other/Forbidden.cs", forbidden));

        Assert.Contains("feature folder Extra has no layer; add it to the layering (and to docs/architecture.md)", violations);
        Assert.Contains(violations, v => v.Contains("Low → Forbidden: Forbidden", StringComparison.Ordinal) && v.EndsWith("is not a feature this project may use", StringComparison.Ordinal));
    }
}
