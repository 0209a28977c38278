namespace Pilotage.Architecture.Tests;

/// <summary>One use, in <paramref name="File"/>, of feature <paramref name="To"/> by feature <paramref name="From"/>.</summary>
/// <param name="What">What was used: a using directive, a namespace in a qualified name, a type or a member.</param>
public sealed record FeatureReference(string From, string To, string File, int Line, string What)
{
    public override string ToString() => $"{From} → {To}: {What} ({File}:{Line})";
}
