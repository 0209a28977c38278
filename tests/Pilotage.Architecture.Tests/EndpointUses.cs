using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Pilotage.Architecture.Tests;

/// <summary>
/// Finds uses of an <c>*Endpoints</c> class's members (methods, properties, constants, nested types) outside that
/// class. An endpoint class is an HTTP adapter: it binds, calls a use case and answers, so nothing else may call
/// into it — the dashboard, the CLI and other features go to the use case itself. The one exception is the host's
/// route mapping: the feature named as host may call the <c>Map…</c> and <c>Add…</c> methods that register routes
/// and services.
/// </summary>
public static class EndpointUses
{
    private const string Suffix = "Endpoints";

    /// <param name="hostFeature">The feature folder whose files may call <c>Map…</c>/<c>Add…</c>; null when none may.</param>
    /// <param name="productRoot">Only types under this namespace count (the framework has its own *Endpoints types).</param>
    public static IReadOnlyList<string> Violations(CheckedProject project, string? hostFeature, string productRoot)
    {
        var found = new List<string>();
        foreach (var tree in project.Compilation.SyntaxTrees)
        {
            var source = project.Sources[tree];
            var feature = string.IsNullOrEmpty(source.Folder) ? null : source.Folder.Split('/')[0];
            var model = project.Compilation.GetSemanticModel(tree);
            // A name that does not resolve could hide a use: the sources must compile for the check to mean anything.
            found.AddRange(model.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => $"{source.Path} does not compile for the check: {d}"));
            foreach (var name in tree.GetRoot().DescendantNodes().OfType<SimpleNameSyntax>())
            {
                var info = model.GetSymbolInfo(name);
                var symbol = info.Symbol ?? info.CandidateSymbols.FirstOrDefault();
                if (symbol is IMethodSymbol { ReducedFrom: { } extension }) symbol = extension;
                if (symbol is null || EndpointsClassOf(symbol, productRoot) is not { } endpoints) continue;
                if (Inside(model, name, endpoints)) continue;
                if (hostFeature is not null && feature == hostFeature && symbol is IMethodSymbol method
                    && (method.Name.StartsWith("Map", StringComparison.Ordinal) || method.Name.StartsWith("Add", StringComparison.Ordinal)))
                {
                    continue;
                }

                var line = name.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                var member = symbol is IMethodSymbol { MethodKind: MethodKind.Constructor } constructor ? constructor.ContainingType.Name : symbol.Name;
                found.Add($"{source.Path}:{line} uses {endpoints.Name}.{member}: an endpoint class is only an HTTP adapter; call the feature's *Commands / *Queries (or move the shared piece there)");
            }
        }

        return found;
    }

    /// <summary>The *Endpoints class that declares <paramref name="symbol"/> (as a member or a nested type); null for anything else, the class itself included.</summary>
    private static INamedTypeSymbol? EndpointsClassOf(ISymbol symbol, string productRoot)
    {
        for (var type = symbol.ContainingType; type is not null; type = type.ContainingType)
        {
            var ns = type.ContainingNamespace?.ToDisplayString() ?? "";
            if (type.Name.EndsWith(Suffix, StringComparison.Ordinal) && (ns == productRoot || ns.StartsWith(productRoot + ".", StringComparison.Ordinal)))
            {
                return type.OriginalDefinition;
            }
        }

        return null;
    }

    /// <summary>Whether the use is written inside the endpoint class itself.</summary>
    private static bool Inside(SemanticModel model, SyntaxNode node, INamedTypeSymbol endpoints) =>
        node.Ancestors().OfType<BaseTypeDeclarationSyntax>()
            .Any(t => SymbolEqualityComparer.Default.Equals(model.GetDeclaredSymbol(t)?.OriginalDefinition, endpoints));
}
