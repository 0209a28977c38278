using System.Text.Encodings.Web;
using System.Text.Unicode;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Pilotage.Server.Reports.Html;

namespace Pilotage.Server.Reports;

/// <summary>
/// Renders the report's Razor components (<see cref="ReportDocument"/>) to one self-contained HTML file
/// with ASP.NET Core's <see cref="HtmlRenderer"/>: every text and attribute is encoded by the renderer.
/// Its own small service provider holds the encoder, which leaves non-ASCII text (−, →, “) readable in
/// the saved file; the components need no other service.
/// </summary>
public sealed class ReportHtml : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly HtmlRenderer _renderer;

    public ReportHtml(ILoggerFactory loggers)
    {
        _services = new ServiceCollection()
            .AddSingleton(HtmlEncoder.Create(UnicodeRanges.All))
            .AddSingleton(loggers)
            .BuildServiceProvider();
        _renderer = new HtmlRenderer(_services, loggers);
    }

    public Task<string> RenderAsync(EvidenceReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return RenderAsync<ReportDocument>(new Dictionary<string, object?> { [nameof(ReportDocument.Report)] = report });
    }

    private Task<string> RenderAsync<TComponent>(IDictionary<string, object?> parameters) where TComponent : IComponent =>
        _renderer.Dispatcher.InvokeAsync(async () =>
        {
            var output = await _renderer.RenderComponentAsync<TComponent>(ParameterView.FromDictionary(parameters));
            return output.ToHtmlString();
        });

    public async ValueTask DisposeAsync()
    {
        await _renderer.DisposeAsync();
        await _services.DisposeAsync();
    }
}
