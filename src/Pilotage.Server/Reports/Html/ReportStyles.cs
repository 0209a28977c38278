using Microsoft.AspNetCore.Components;

namespace Pilotage.Server.Reports.Html;

/// <summary>The report's stylesheet, inlined into the page so the file opens offline, prints, and can be archived as it is.</summary>
internal static class ReportStyles
{
    /// <summary>The whole <c>&lt;style&gt;</c> element: trusted, constant markup (no data passes through it).</summary>
    public static MarkupString StyleElement { get; } = new("<style>" + Css + "</style>");

    private const string Css = """
        :root{--ink:#1d2330;--muted:#5b6473;--line:#d8dde6;--bg:#fff;--soft:#f4f6f9;--good:#1b7a3a;--bad:#b3261e;--warn:#8a5a00;--accent:#2456a6}
        *{box-sizing:border-box}
        body{margin:0 auto;max-width:60rem;padding:1.5rem;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
        h1{font-size:1.6rem;margin:.2rem 0}h1 code{font-size:1rem;color:var(--muted)}
        h2{font-size:1.2rem;border-bottom:2px solid var(--line);padding-bottom:.2rem;margin-top:2rem}
        .kicker{color:var(--muted);margin:0;font-size:.85rem;text-transform:uppercase;letter-spacing:.04em}
        .purpose{font-size:1.05rem;margin:.2rem 0 1rem}
        .recommendation{border-left:6px solid var(--accent);background:var(--soft);padding:.6rem 1rem;margin:1rem 0}
        .recommendation p{margin:.3rem 0 0}.recommendation .label{color:var(--muted);font-size:.85rem;text-transform:uppercase}
        .rec-proceed{border-color:var(--good)}.rec-stop,.rec-redesign{border-color:var(--bad)}.rec-narrow,.rec-repilot,.rec-insufficient_evidence{border-color:var(--warn)}
        nav ol{columns:3;font-size:.9rem;padding-left:1.2rem}
        table{border-collapse:collapse;width:100%;margin:.8rem 0;font-size:.92rem}
        caption{text-align:left;font-weight:600;padding:.3rem 0;color:var(--muted)}
        th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
        thead th{background:var(--soft)}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dl.facts dt{font-weight:600;color:var(--muted)}dl.facts dd{margin:0}
        .badge{display:inline-block;border-radius:.8rem;padding:0 .55rem;font-size:.8rem;font-weight:600;border:1px solid currentColor;white-space:nowrap}
        .good{color:var(--good)}.bad{color:var(--bad)}.warn{color:var(--warn)}.muted{color:var(--muted)}
        .big{font-size:2rem;font-weight:700;margin:.2rem 0}
        .note,.why{color:var(--muted);font-size:.88rem}
        ul.mistakes{list-style:none;padding:0}ul.mistakes li{border:1px solid var(--line);border-radius:.4rem;padding:.5rem .8rem;margin:.5rem 0}
        ul.mistakes li.found{border-color:var(--bad);background:#fdf3f2}ul.mistakes p{margin:.3rem 0}
        figure{margin:1rem 0}figcaption{color:var(--muted);font-size:.88rem}
        svg{max-width:100%;height:auto;display:block}svg text{font:12px system-ui,sans-serif;fill:#1d2330}
        .sev-high,.sev-critical{color:var(--bad);font-weight:600}
        footer{margin-top:2rem;border-top:1px solid var(--line);color:var(--muted);font-size:.8rem;word-break:break-all}
        @media print{
          body{max-width:none;padding:0;font-size:10pt}
          nav{display:none}
          a{color:inherit;text-decoration:none}
          section,figure,table,ul.mistakes li{break-inside:avoid}
          h2{break-after:avoid}
          .recommendation,ul.mistakes li.found,thead th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
        }
        """;
}
