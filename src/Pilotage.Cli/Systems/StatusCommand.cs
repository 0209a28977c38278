using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Pilotage.Cli.Client;
using Pilotage.Server.Systems;

namespace Pilotage.Cli.Systems;

/// <summary><c>pilotage status [SYSTEM]</c>: where each AI system is in its lifecycle.</summary>
internal static class StatusCommand
{
    public static Command Create(CliContext cli)
    {
        var system = new Argument<string?>("SYSTEM")
        {
            Description = "A system's name (metadata.name in its spec); without it, all systems are listed",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = cli.ClientCommand("status", "List AI systems with their lifecycle phase, owner, risk and config version and what needs attention, or show one system in detail.");
        command.Arguments.Add(system);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system);
            if (slug is not null && slug.StartsWith('-'))
            {
                // The optional argument would otherwise swallow a mistyped option as a system name.
                throw new CliException($"unknown option '{slug}' (see 'pilotage status --help')", ExitCodes.Usage);
            }
            using var call = cli.Call(parse, ct);
            if (slug is null)
            {
                return await call.ShowAsync(await call.GetAsync("api/v1/systems"), SystemsApiJsonContext.Default.IReadOnlyListSystemSummary, systems => PortfolioAsync(call, systems));
            }
            return await call.ShowAsync(await call.GetAsync($"api/v1/systems/{Args.Escape(slug)}"), SystemsApiJsonContext.Default.SystemDetail, detail => DetailAsync(call, slug, detail));
        });
        return command;
    }

    /// <summary>Every system, then the portfolio's attention items, worst first: what the dashboard shows in red and amber.</summary>
    private static async Task PortfolioAsync(ServerCall call, IReadOnlyList<SystemSummary> systems)
    {
        call.Output.Table(
            ["SYSTEM", "PHASE", "OWNER", "RISK", "CONFIG", "UPDATED"],
            systems.Select(s => (IReadOnlyList<string>)[s.Slug, Phase(s), s.Orphaned ? s.Owner + " (orphaned)" : s.Owner, s.Risk, $"v{s.ConfigVersion}", Output.Time(s.UpdatedAt)]).ToList(),
            "no AI systems yet; declare one in a spec file and run 'pilotage apply -f FILE'");
        var attention = Attention(await call.GetAsync("api/v1/attention")).Where(a => a.Level != "good").ToList();
        if (systems.Count > 0)
        {
            call.Output.Line();
            if (attention.Count == 0) call.Output.Line("nothing needs attention");
            foreach (var item in attention.OrderBy(a => a.Level == "bad" ? 0 : 1)) call.Output.Line($"{item.Level}: {item.System}: {item.Text} ({call.Client.ServerText}{item.Link})");
        }
    }

    /// <summary>One system in detail, then what needs attention and what its evidence says.</summary>
    private static async Task DetailAsync(ServerCall call, string slug, SystemDetail detail)
    {
        var s = detail.System;
        call.Output.Fields(
        [
            ("system", s.Slug),
            ("title", s.Title),
            ("owner", s.Orphaned ? $"{s.Owner} (orphaned: deactivated; a new owner must accept the system)" : s.PendingOwner is null ? s.Owner : $"{s.Owner} (handover to {s.PendingOwner} pending)"),
            ("purpose", detail.Purpose),
            ("risk", s.Risk),
            ("phase", s.Phase),
            ("stage", s.StageName is null ? "-" : $"{s.StageName} (stage {(s.Stage + 1).ToString(CultureInfo.InvariantCulture)})"),
            ("config version", $"v{s.ConfigVersion}"),
            ("spec hash", detail.SpecHash),
            ("created", Output.Time(s.CreatedAt)),
            ("updated", Output.Time(s.UpdatedAt)),
        ]);
        // What needs attention, as on the system's dashboard page, with where to act on it.
        var items = Attention(await call.GetAsync($"api/v1/systems/{Args.Escape(slug)}/attention")).Where(a => a.Level != "good").ToList();
        call.Output.Line();
        if (items.Count == 0) call.Output.Line("nothing needs attention");
        foreach (var item in items) call.Output.Line($"{item.Level}: {item.Text} ({call.Client.ServerText}{item.Link})");
        // The evidence's verdict and the seed's six mistakes, where someone looking at status sees them.
        var report = await call.GetAsync($"api/v1/systems/{Args.Escape(slug)}/report?format=json");
        if (report.TryGetProperty("criteria", out var criteria) && criteria.TryGetProperty("recommendation", out var recommendation))
        {
            call.Output.Line();
            call.Output.Line($"recommendation: {recommendation.GetProperty("kind").GetString()?.Replace('_', ' ')} — {recommendation.GetProperty("summary").GetString()}");
        }
        if (report.TryGetProperty("mistakes", out var mistakes))
        {
            foreach (var mistake in mistakes.EnumerateArray().Where(m => m.GetProperty("found").GetBoolean()))
            {
                call.Output.Line($"warning: {mistake.GetProperty("title").GetString()}: {mistake.GetProperty("detail").GetString()}");
            }
        }
    }

    private sealed record AttentionLine(string System, string Level, string Text, string Link);

    /// <summary>Attention items as the API sends them (<c>{system, kind, level, text, figure, unit, link}</c>).</summary>
    private static IEnumerable<AttentionLine> Attention(JsonElement raw)
    {
        if (raw.ValueKind != JsonValueKind.Array) yield break;
        foreach (var item in raw.EnumerateArray())
        {
            string Text(string name) => item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? Args.OneLine(value.GetString()) : "";
            yield return new AttentionLine(Text("system"), Text("level"), Text("text"), Text("link"));
        }
    }

    private static string Phase(SystemSummary s) => s.StageName is null ? s.Phase : $"{s.Phase} ({s.StageName})";
}
