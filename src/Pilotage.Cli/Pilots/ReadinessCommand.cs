using System.CommandLine;
using System.Text.Json;
using Pilotage.Cli.Client;

namespace Pilotage.Cli.Pilots;

/// <summary>
/// <c>pilotage readiness SYSTEM</c>: the twenty pilot-to-production questions by group with their
/// status, and <c>pilotage readiness SYSTEM answer QUESTION_ID TEXT</c> to record a person's answer.
/// </summary>
internal static class ReadinessCommand
{
    public static Command Create(CliContext cli)
    {
        var system = Args.System();
        var action = new Argument<string?>("answer")
        {
            Description = "'answer' to record a person's answer to QUESTION_ID",
            HelpName = "answer",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var question = new Argument<string?>("QUESTION_ID")
        {
            Description = "The question's id as listed (e.g. rollout.risky_tasks)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var text = new Argument<string[]>("TEXT")
        {
            Description = "The answer (quote it, or give it as several words)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = cli.ClientCommand("readiness", "Show the pilot-to-production readiness questions of a system by group with their status (ok, warning, blocking, needs an answer), or answer one: 'pilotage readiness SYSTEM answer QUESTION_ID TEXT'.");
        command.Arguments.Add(system);
        command.Arguments.Add(action);
        command.Arguments.Add(question);
        command.Arguments.Add(text);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            Args.NotAnOption(slug, "readiness");
            var verb = parse.GetValue(action);
            Args.NotAnOption(verb, "readiness");
            if (verb is null) return await ShowAsync(cli, parse, slug, ct);
            if (verb != "answer")
            {
                throw new CliException($"unknown readiness action '{verb}'; use 'pilotage readiness {slug}' or 'pilotage readiness {slug} answer QUESTION_ID TEXT'", ExitCodes.Usage);
            }
            var id = Args.Blank(parse.GetValue(question))
                ?? throw new CliException($"name the question to answer: pilotage readiness {slug} answer QUESTION_ID \"…\" ('pilotage readiness {slug}' lists them)", ExitCodes.Usage);
            var answer = Args.Blank(string.Join(' ', parse.GetValue(text) ?? []))
                ?? throw new CliException($"the answer is empty: pilotage readiness {slug} answer {id} \"…\"", ExitCodes.Usage);
            using var call = cli.Call(parse, ct);
            var raw = await call.SendAsync(HttpMethod.Put, $"api/v1/systems/{Args.Escape(slug)}/readiness/{Args.Escape(id)}", w =>
            {
                w.WriteStartObject();
                w.WriteString("answer", answer);
                w.WriteEndObject();
            });
            if (call.Json && raw.ValueKind == JsonValueKind.Undefined)
            {
                // An empty answer: the JSON says what was recorded.
                call.Output.Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("system", slug);
                    w.WriteString("question", id);
                    w.WriteString("answer", answer);
                    w.WriteEndObject();
                });
                return ExitCodes.Ok;
            }
            return call.Show(raw, recorded =>
            {
                var status = Find(recorded, id) is { } item ? Str(item, "status") : null;
                call.Output.Line(status is null ? $"{slug}: answered {id}" : $"{slug}: answered {id}; now {Status(status)}");
            });
        });
        return command;
    }

    private static async Task<int> ShowAsync(CliContext cli, ParseResult parse, string slug, CancellationToken ct)
    {
        using var call = cli.Call(parse, ct);
        return call.Show(await call.GetAsync($"api/v1/systems/{Args.Escape(slug)}/readiness"), raw => Print(call.Output, slug, raw));
    }

    /// <summary>The questions by group, each group a table, then the verdict.</summary>
    private static void Print(Output output, string slug, JsonElement raw)
    {
        var items = Items(raw).Select(Question.From).ToList();
        if (items.Count == 0)
        {
            output.Line($"no readiness questions for {slug}");
            return;
        }
        var first = true;
        foreach (var group in items.GroupBy(q => q.Group))
        {
            if (!first) output.Line();
            first = false;
            output.Line(group.First().GroupTitle ?? GroupTitle(group.Key));
            output.Table(
                ["ID", "STATUS", "QUESTION", "ANSWER"],
                group.Select(q => (IReadOnlyList<string>)[q.Id, Status(q.Status), q.Text, Args.Short(q.Answer, 70)]).ToList(),
                "");
        }
        if (raw.ValueKind == JsonValueKind.Object)
        {
            var summary = Str(raw, "summary");
            var ready = raw.TryGetProperty("readyToProceed", out var r) && r.ValueKind is JsonValueKind.True or JsonValueKind.False ? r.GetBoolean() : (bool?)null;
            var blockers = raw.TryGetProperty("blockers", out var b) && b.ValueKind == JsonValueKind.Array
                ? b.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText()).ToList()
                : [];
            output.Line();
            if (summary is not null) output.Line(Args.OneLine(summary));
            else if (ready is { } yes) output.Line(yes ? "ready to proceed" : "not ready to proceed");
            if (blockers.Count > 0 && summary is null) output.Line("blocking: " + string.Join(", ", blockers));
        }
    }

    /// <summary>One question as the server lists it: flat, or a question object with its assessment around it.</summary>
    private sealed record Question(string Id, string Group, string? GroupTitle, string Text, string Status, string Answer)
    {
        public static Question From(JsonElement item)
        {
            var inner = item.TryGetProperty("question", out var q) && q.ValueKind == JsonValueKind.Object ? q : item;
            var answer = Str(item, "answer")
                ?? (item.TryGetProperty("person", out var p) && p.ValueKind == JsonValueKind.Object ? Str(p, "text") : null);
            if (Str(item, "figure") is { } figure && answer is not null && !answer.Contains(figure, StringComparison.Ordinal)) answer += $" ({figure})";
            return new Question(
                Str(inner, "id") ?? Str(item, "questionId") ?? "?",
                Str(inner, "group") ?? Str(item, "group") ?? "",
                Str(inner, "groupTitle") ?? Str(item, "groupTitle"),
                Str(inner, "text") ?? Str(item, "question") ?? "",
                Str(item, "status") ?? "-",
                answer ?? "-");
        }
    }

    /// <summary>The questions of the answer: a list, or an object with them under answers, questions or items (or grouped under groups).</summary>
    private static IEnumerable<JsonElement> Items(JsonElement raw)
    {
        if (raw.ValueKind == JsonValueKind.Array) return raw.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object);
        if (raw.ValueKind != JsonValueKind.Object) return [];
        foreach (var name in new[] { "answers", "questions", "items" })
        {
            if (raw.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array) return Items(list);
        }
        if (raw.TryGetProperty("groups", out var groups) && groups.ValueKind == JsonValueKind.Array)
        {
            return groups.EnumerateArray().Where(g => g.ValueKind == JsonValueKind.Object).SelectMany(g => Items(g).Select(q => WithGroup(q, Str(g, "group") ?? Str(g, "name"))));
        }
        return [];
    }

    private static JsonElement WithGroup(JsonElement question, string? group)
    {
        if (group is null || Str(question, "group") is not null) return question;
        var node = System.Text.Json.Nodes.JsonNode.Parse(question.GetRawText())!.AsObject();
        node["group"] = group;
        using var document = JsonDocument.Parse(node.ToJsonString());
        return document.RootElement.Clone();
    }

    private static JsonElement? Find(JsonElement raw, string id) =>
        raw.ValueKind == JsonValueKind.Object && (Str(raw, "id") == id || Str(raw, "questionId") == id
            || (raw.TryGetProperty("question", out var q) && q.ValueKind == JsonValueKind.Object && Str(q, "id") == id))
            ? raw
            : Items(raw).Cast<JsonElement?>().FirstOrDefault(e => Question.From(e!.Value).Id == id);

    /// <summary>PilotEvidence / pilot_evidence → "Pilot evidence".</summary>
    private static string GroupTitle(string group)
    {
        if (group.Length == 0) return "Questions";
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        foreach (var c in group)
        {
            if (c is '_' or '-' or ' ' || (char.IsUpper(c) && current.Length > 0))
            {
                if (current.Length > 0) words.Add(current.ToString());
                current.Clear();
                if (!char.IsUpper(c)) continue;
            }
            current.Append(char.ToLowerInvariant(c));
        }
        if (current.Length > 0) words.Add(current.ToString());
        var title = string.Join(' ', words);
        return title.Length == 0 ? group : char.ToUpperInvariant(title[0]) + title[1..];
    }

    /// <summary>NeedsAnswer / needs_answer → "needs answer".</summary>
    private static string Status(string status) => GroupTitle(status).ToLowerInvariant();

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
