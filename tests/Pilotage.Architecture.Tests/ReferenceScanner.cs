using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Pilotage.Architecture.Tests;

/// <summary>
/// Finds every use of one feature folder by another in a compiled set of sources. A use is anything the
/// compiler resolves to a namespace, type or member of the other feature: a using directive (used or
/// not), a namespace in a full or partial qualification (<c>Changes.ChangeControl</c>), a type named
/// directly or found in an enclosing namespace, an inferred <c>var</c>, a target-typed <c>new()</c>, an
/// attribute, an extension method. Resolving through the semantic model, rather than matching text,
/// is what makes partial qualifications and enclosing-namespace lookups visible.
/// </summary>
public static class ReferenceScanner
{
    /// <summary>The references between features, the namespace problems found on the way, and compile errors (which would hide uses).</summary>
    public sealed record Result(IReadOnlyList<FeatureReference> References, IReadOnlyList<string> Problems, IReadOnlyList<string> CompileErrors);

    /// <param name="rootNamespace">The project's root namespace; its first segment below names the feature.</param>
    /// <param name="foreignRoots">Namespaces the project must not use at all (e.g. Pilotage.Server from Core).</param>
    public static Result Scan(
        CSharpCompilation compilation,
        IReadOnlyDictionary<SyntaxTree, SourceFile> sources,
        string rootNamespace,
        IReadOnlyCollection<string> foreignRoots)
    {
        var references = new List<FeatureReference>();
        var problems = new List<string>();
        var errors = new List<string>();
        foreach (var tree in compilation.SyntaxTrees)
        {
            var source = sources[tree];
            var root = tree.GetCompilationUnitRoot();
            var fileFeature = FileFeature(source, root, rootNamespace, problems);
            if (fileFeature is null)
            {
                continue;
            }

            var model = compilation.GetSemanticModel(tree);
            // Binds the file once; the lookups below reuse it. An error means some name did not resolve.
            errors.AddRange(model.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));
            foreach (var node in root.DescendantNodes(n => n is not UsingDirectiveSyntax))
            {
                var (symbol, what) = node switch
                {
                    UsingDirectiveSyntax u => (model.GetSymbolInfo(u.NamespaceOrType).Symbol, "using " + u.NamespaceOrType),
                    SimpleNameSyntax n when !IsNamespaceDeclarationName(n) => (Resolve(model, n), n.ToString()),
                    ImplicitObjectCreationExpressionSyntax o => (Resolve(model, o), "new()"),
                    _ => (null, ""),
                };
                if (symbol is null)
                {
                    continue;
                }

                var ns = NamespaceOf(symbol);
                if (ns is null)
                {
                    continue;
                }

                var line = node.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                var foreign = foreignRoots.FirstOrDefault(f => ns == f || ns.StartsWith(f + ".", StringComparison.Ordinal));
                if (foreign is not null)
                {
                    references.Add(new FeatureReference(fileFeature, foreign, source.Path, line, $"{what} ({ns})"));
                    continue;
                }

                var feature = FeatureOf(ns, rootNamespace);
                // The root namespace as the head of a qualified name is no use of anything; a type in it is.
                if (feature is not null && feature != fileFeature && !(feature.Length == 0 && symbol is INamespaceSymbol))
                {
                    references.Add(new FeatureReference(fileFeature, feature, source.Path, line, Describe(what, symbol, ns)));
                }
            }
        }

        return new Result(references, problems, errors);
    }

    /// <summary>The feature a namespace belongs to: its first segment below the root; "" for the root itself; null outside.</summary>
    public static string? FeatureOf(string ns, string rootNamespace)
    {
        if (ns == rootNamespace)
        {
            return "";
        }

        if (!ns.StartsWith(rootNamespace + ".", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = ns[(rootNamespace.Length + 1)..];
        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? rest : rest[..dot];
    }

    // A hand-written file's feature is its top folder, and every namespace it declares must be its folder's.
    // Generated code has no folder: it belongs to the feature of the namespace it declares.
    private static string? FileFeature(SourceFile source, CompilationUnitSyntax root, string rootNamespace, List<string> problems)
    {
        var declared = root.DescendantNodes(n => n is CompilationUnitSyntax or BaseNamespaceDeclarationSyntax)
            .OfType<BaseNamespaceDeclarationSyntax>()
            .Select(FullName)
            .ToList();
        if (source.Folder is null)
        {
            return declared.Select(ns => FeatureOf(ns, rootNamespace)).FirstOrDefault(f => !string.IsNullOrEmpty(f));
        }

        var expected = source.Folder.Length == 0 ? rootNamespace : rootNamespace + "." + source.Folder.Replace('/', '.');
        var topLevelTypes = root.Members.OfType<BaseTypeDeclarationSyntax>().Any() || root.Members.OfType<DelegateDeclarationSyntax>().Any();
        if (topLevelTypes)
        {
            problems.Add($"{source.Path} declares types outside a namespace; it should declare `namespace {expected};`");
        }

        foreach (var ns in declared.Where(ns => ns != expected))
        {
            problems.Add($"{source.Path} declares namespace {ns}; its folder says {expected}");
        }

        if (source.Folder.Length == 0)
        {
            if (declared.Count > 0 || topLevelTypes)
            {
                problems.Add($"{source.Path} is at the project's root; code belongs in a feature folder");
            }

            // Top-level statements (Program.cs) are the entry point: it may use every feature.
            return null;
        }

        var slash = source.Folder.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? source.Folder : source.Folder[..slash];
    }

    private static string FullName(BaseNamespaceDeclarationSyntax ns)
    {
        var name = ns.Name.ToString();
        for (var parent = ns.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is BaseNamespaceDeclarationSyntax outer)
            {
                name = outer.Name + "." + name;
            }
        }

        return name;
    }

    private static bool IsNamespaceDeclarationName(SyntaxNode node)
    {
        while (node.Parent is QualifiedNameSyntax)
        {
            node = node.Parent;
        }

        return node.Parent is BaseNamespaceDeclarationSyntax ns && ns.Name == node;
    }

    private static ISymbol? Resolve(SemanticModel model, SyntaxNode node)
    {
        var info = model.GetSymbolInfo(node);
        return info.Symbol ?? info.CandidateSymbols.FirstOrDefault();
    }

    private static string Describe(string what, ISymbol symbol, string ns) => symbol switch
    {
        _ when what.StartsWith("using ", StringComparison.Ordinal) => what,
        INamespaceSymbol => $"{what} (namespace {ns})",
        IAliasSymbol alias => Describe(what, alias.Target, ns),
        ITypeSymbol t => $"{what} ({ns}.{t.Name})",
        IMethodSymbol { MethodKind: MethodKind.Constructor } c => $"{what} ({ns}.{c.ContainingType.Name})",
        _ => $"{what} ({ns}.{symbol.ContainingType?.Name}.{symbol.Name})",
    };

    /// <summary>The namespace a symbol lives in: a type's own, a member's containing type's; null for locals.</summary>
    private static string? NamespaceOf(ISymbol symbol)
    {
        switch (symbol)
        {
            case IAliasSymbol alias:
                return NamespaceOf(alias.Target);
            case INamespaceSymbol ns:
                return ns.IsGlobalNamespace ? null : ns.ToDisplayString();
            case IArrayTypeSymbol array:
                return NamespaceOf(array.ElementType);
            case IPointerTypeSymbol pointer:
                return NamespaceOf(pointer.PointedAtType);
            case ITypeParameterSymbol:
                return null;
            case INamedTypeSymbol type:
                var outer = type.OriginalDefinition;
                while (outer.ContainingType is not null)
                {
                    outer = outer.ContainingType;
                }

                return outer.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
            case IMethodSymbol { ReducedFrom: { } extension }:
                return NamespaceOf(extension);
            case ILocalSymbol or IParameterSymbol or IRangeVariableSymbol or ILabelSymbol or IDiscardSymbol:
                return null;
            default:
                return symbol.ContainingType is { } containing ? NamespaceOf(containing)
                    : symbol.ContainingNamespace is { IsGlobalNamespace: false } cn ? cn.ToDisplayString() : null;
        }
    }
}
