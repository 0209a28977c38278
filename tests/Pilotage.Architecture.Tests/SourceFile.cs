namespace Pilotage.Architecture.Tests;

/// <summary>
/// A C# source of the checked project. <paramref name="Folder"/> is its folder relative to the project
/// (forward slashes, empty at the project's root), or null for generated code (Razor views, JSON
/// contexts), which belongs to the feature of the namespace it declares.
/// </summary>
public sealed record SourceFile(string Path, string? Folder, string Text);
