using Microsoft.AspNetCore.Components.Rendering;

namespace Pilotage.Server.Reports.Html;

/// <summary>
/// Writes SVG elements into a render tree. The renderer encodes every attribute and text, so no chart
/// string is ever concatenated into markup. Sequence numbers are constant: these trees are rendered
/// once to HTML, never diffed.
/// </summary>
internal readonly struct SvgWriter(RenderTreeBuilder builder)
{
    public void Open(string element, params ReadOnlySpan<(string Name, object Value)> attributes)
    {
        builder.OpenElement(0, element);
        foreach (var (name, value) in attributes) builder.AddAttribute(1, name, Text(value));
    }

    public void Close() => builder.CloseElement();

    /// <summary>An element with attributes and, when given, its text.</summary>
    public void Element(string element, string? text, params ReadOnlySpan<(string Name, object Value)> attributes)
    {
        Open(element, attributes);
        if (text is not null) builder.AddContent(2, text);
        Close();
    }

    public void Content(string text) => builder.AddContent(2, text);

    /// <summary>Numbers as SVG coordinates: invariant culture, two decimals at most.</summary>
    private static string Text(object value) => value switch
    {
        double d => ReportFormat.Px(d),
        int i => ReportFormat.Whole(i),
        long l => ReportFormat.Whole(l),
        _ => value.ToString() ?? "",
    };
}
