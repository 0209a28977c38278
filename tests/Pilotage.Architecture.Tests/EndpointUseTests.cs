namespace Pilotage.Architecture.Tests;

/// <summary>
/// No code but the host's route mapping uses an <c>*Endpoints</c> class: use-case logic lives in the features'
/// <c>*Commands</c> / <c>*Queries</c>, which the API, the dashboard and the CLI's server calls share (docs/architecture.md).
/// </summary>
public sealed class EndpointUseTests
{
    [Fact]
    public void Only_the_hosts_route_mapping_uses_the_servers_endpoint_classes()
    {
        var violations = EndpointUses.Violations(CheckedProject.Load("Pilotage.Server"), "Hosting", "Pilotage");

        Assert.True(violations.Count == 0, "Pilotage.Server calls into endpoint classes:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_cli_never_uses_an_endpoint_class()
    {
        var violations = EndpointUses.Violations(CheckedProject.Load("Pilotage.Cli", "pilotage"), null, "Pilotage");

        Assert.True(violations.Count == 0, "Pilotage.Cli calls into the server's endpoint classes:\n" + string.Join("\n", violations));
    }

    // The checker on a made-up project: a feature's endpoints, the host that maps them, and a page and a CLI verb that reach in.
    private const string Endpoints = """
        namespace App.Things;
        public sealed class Routes;
        public static class ThingEndpoints
        {
            public static void MapThings(this Routes routes) => Describe();
            public static void AddThings(Routes routes) { }
            public static string Describe() => nameof(ThingEndpoints);
            public sealed record Body(string? Text);
            public const int Limit = 10;
        }
        """;

    private static IReadOnlyList<string> Check(params (string Path, string Text)[] files)
    {
        var project = CheckedProject.Compile("App", files.Select(f => new SourceFile(f.Path, Path.GetDirectoryName(f.Path)!.Replace('\\', '/'), f.Text)));
        Assert.Empty(project.Compilation.GetDiagnostics().Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
        return EndpointUses.Violations(project, "Hosting", "App");
    }

    [Fact]
    public void The_host_mapping_routes_and_the_class_using_itself_pass()
    {
        var host = "namespace App.Hosting;\nusing App.Things;\npublic static class Wiring\n{\n    public static void Wire(Routes routes) { routes.MapThings(); ThingEndpoints.AddThings(routes); }\n}\n";

        Assert.Empty(Check(("Things/ThingEndpoints.cs", Endpoints), ("Hosting/Wiring.cs", host)));
    }

    [Fact]
    public void A_deliberate_call_a_nested_type_and_a_constant_from_outside_are_each_caught()
    {
        var page = "namespace App.Dashboard;\npublic sealed class Page\n{\n    public string Show() => App.Things.ThingEndpoints.Describe();\n    public object Body() => new App.Things.ThingEndpoints.Body(\"x\");\n}\n";
        var verb = "namespace App.Cli;\npublic static class Verb\n{\n    public static int Limit => App.Things.ThingEndpoints.Limit;\n}\n";
        var host = "namespace App.Hosting;\npublic static class Wiring\n{\n    public static string Wire() => App.Things.ThingEndpoints.Describe();\n}\n";

        var violations = Check(("Things/ThingEndpoints.cs", Endpoints), ("Dashboard/Page.cs", page), ("Cli/Verb.cs", verb), ("Hosting/Wiring.cs", host));

        Assert.Contains(violations, v => v.StartsWith("Dashboard/Page.cs:4 uses ThingEndpoints.Describe", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("Dashboard/Page.cs:5 uses ThingEndpoints.Body", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("Cli/Verb.cs:4 uses ThingEndpoints.Limit", StringComparison.Ordinal));
        // The host may map routes, not call anything else on an endpoint class.
        Assert.Contains(violations, v => v.StartsWith("Hosting/Wiring.cs:4 uses ThingEndpoints.Describe", StringComparison.Ordinal));
        Assert.Equal(4, violations.Count);
    }
}
