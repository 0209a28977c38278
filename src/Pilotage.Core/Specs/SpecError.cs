namespace Pilotage.Core.Specs;

/// <summary>
/// One problem found in a spec document, located by its field path and source position so that a
/// person can fix every problem in one pass.
/// </summary>
/// <param name="Source">File name (or "request") the document came from.</param>
/// <param name="Path">Field path, e.g. <c>spec.pilot.criteria[1].metric</c>; empty for a document-level problem.</param>
/// <param name="Message">What is wrong and, where possible, how to fix it.</param>
/// <param name="Line">1-based line, 0 when unknown.</param>
/// <param name="Column">1-based column, 0 when unknown.</param>
public sealed record SpecError(string Source, string Path, string Message, int Line, int Column)
{
    public override string ToString()
    {
        var where = Line > 0 ? $" at line {Line}, column {Column}" : "";
        var prefix = string.IsNullOrEmpty(Path) ? "" : Path + ": ";
        var file = string.IsNullOrEmpty(Source) ? "" : Source + ": ";
        return $"{file}{prefix}{Message}{where}";
    }
}

/// <summary>The result of reading one or more spec documents: either specs, or every error found.</summary>
public sealed record SpecReadResult(IReadOnlyList<SystemSpec> Specs, IReadOnlyList<SpecError> Errors)
{
    public bool Ok => Errors.Count == 0;
}
