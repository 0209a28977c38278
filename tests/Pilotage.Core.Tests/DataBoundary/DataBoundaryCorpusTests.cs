using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;
using Xunit.Abstractions;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The labelled corpus (Corpus/boundary-corpus.tsv, written by Corpus/generate.py): every positive value, in
/// every spelling, placed in every field a request can carry, must be found exactly (recall 100 %), and no
/// detector may find anything in the negative lines (0 false positives). Prints recall and precision per detector.
/// </summary>
public class DataBoundaryCorpusTests(ITestOutputHelper output)
{
    private static readonly DataBoundaryPolicy AllBuiltIns = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Redact = [.. DataBoundaryPolicy.BuiltInDetectors],
    });

    /// <summary>Where a corpus text is placed: a request body holding it, and how to read the field back.</summary>
    private static readonly Dictionary<string, (Func<string, JsonObject> Build, Func<JsonObject, string> Read)> Fields = new()
    {
        ["content"] = (t => Chat(new JsonObject { ["role"] = "user", ["content"] = t }), b => Str(b["messages"]![0]!["content"])),
        ["part"] = (t => Chat(new JsonObject { ["role"] = "user", ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = t }) }),
            b => Str(b["messages"]![0]!["content"]![0]!["text"])),
        ["name"] = (t => Chat(new JsonObject { ["role"] = "user", ["name"] = t, ["content"] = "hi" }), b => Str(b["messages"]![0]!["name"])),
        ["tool_arguments"] = (t => Chat(new JsonObject
        {
            ["role"] = "assistant",
            ["tool_calls"] = new JsonArray(new JsonObject
            {
                ["id"] = "call_1", ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "note", ["arguments"] = t },
            }),
        }), b => Str(b["messages"]![0]!["tool_calls"]![0]!["function"]!["arguments"])),
        ["tool_result"] = (t => Chat(new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_1", ["content"] = t }), b => Str(b["messages"]![0]!["content"])),
        ["user"] = (t => new JsonObject { ["model"] = "m", ["user"] = t, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }) }, b => Str(b["user"])),
        ["metadata"] = (t => new JsonObject { ["model"] = "m", ["metadata"] = new JsonObject { ["note"] = t } }, b => Str(b["metadata"]!["note"])),
        ["instructions"] = (t => new JsonObject { ["model"] = "m", ["instructions"] = t, ["input"] = "hi" }, b => Str(b["instructions"])),
        ["responses_input"] = (t => new JsonObject
        {
            ["model"] = "m",
            ["input"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = t }) }),
        }, b => Str(b["input"]![0]!["content"]![0]!["text"])),
        ["anthropic_system"] = (t => new JsonObject { ["model"] = "m", ["system"] = t, ["messages"] = new JsonArray() }, b => Str(b["system"])),
        ["anthropic_tool_use"] = (t => Chat(new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = new JsonArray(new JsonObject { ["type"] = "tool_use", ["id"] = "toolu_1", ["name"] = "note", ["input"] = new JsonObject { ["text"] = t } }),
        }), b => Str(b["messages"]![0]!["content"]![0]!["input"]!["text"])),
        ["anthropic_tool_result"] = (t => Chat(new JsonObject
        {
            ["role"] = "user",
            ["content"] = new JsonArray(new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = "toolu_1", ["content"] = t }),
        }), b => Str(b["messages"]![0]!["content"]![0]!["content"])),
        ["embeddings"] = (t => new JsonObject { ["model"] = "m", ["input"] = t }, b => Str(b["input"])),
        ["embeddings_list"] = (t => new JsonObject { ["model"] = "m", ["input"] = new JsonArray("first", t) }, b => Str(b["input"]![1])),
        ["prompt"] = (t => new JsonObject { ["model"] = "m", ["prompt"] = t }, b => Str(b["prompt"])),
    };

    private static JsonObject Chat(JsonObject message) => new() { ["model"] = "m", ["messages"] = new JsonArray(message) };

    private static string Str(JsonNode? node) => node!.GetValue<string>();

    private sealed record Line(int Number, string Label, string Field, string Text);

    private static List<Line> Corpus()
    {
        var path = Path.Combine(RepoPaths.Root(), "tests", "Pilotage.Core.Tests", "DataBoundary", "Corpus", "boundary-corpus.tsv");
        var lines = new List<Line>();
        var number = 0;
        foreach (var raw in File.ReadLines(path, Encoding.UTF8))
        {
            number++;
            if (raw.Length == 0 || raw[0] == '#')
            {
                continue;
            }
            var parts = raw.Split('\t', 3);
            lines.Add(new Line(number, parts[0], parts[1], JsonSerializer.Deserialize<string>(parts[2])!));
        }
        return lines;
    }

    [Fact]
    public void Every_positive_is_found_exactly_and_no_negative_is_touched()
    {
        var lines = Corpus();
        var positives = lines.Count(l => l.Label != "none");
        Assert.True(positives >= 500, $"the corpus needs at least 500 positive lines, it has {positives}");
        Assert.True(lines.Count - positives >= 500, $"the corpus needs at least 500 negative lines, it has {lines.Count - positives}");
        Assert.Equal(Fields.Keys.Order(), lines.Select(l => l.Field).Distinct().Order());

        var truePositives = new Dictionary<string, int>();
        var expected = new Dictionary<string, int>();
        var falsePositives = new Dictionary<string, int>();
        var failures = new List<string>();
        foreach (var line in lines)
        {
            var (text, wanted) = Unmark(line);
            var (build, read) = Fields[line.Field];
            var body = build(text);
            var result = RequestScrubber.Scrub(body, AllBuiltIns);
            var found = result.Hits.Select(h => h.Hit.Detector).ToList();
            if (line.Label != "none")
            {
                expected[line.Label] = expected.GetValueOrDefault(line.Label) + 1;
            }
            var exact = line.Label != "none" && read(body) == wanted;
            if (exact && found.Count == 1 && found[0] == line.Label)
            {
                truePositives[line.Label] = truePositives.GetValueOrDefault(line.Label) + 1;
                continue;
            }
            foreach (var detector in found.Where(d => d != line.Label || !exact))
            {
                falsePositives[detector] = falsePositives.GetValueOrDefault(detector) + 1;
            }
            if (line.Label != "none" || found.Count > 0)
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture,
                    $"line {line.Number} ({line.Label} in {line.Field}): found [{string.Join(", ", found)}], field became {JsonSerializer.Serialize(read(body))}"));
            }
        }

        output.WriteLine($"{"detector",-12} {"positives",9} {"found",6} {"recall",7} {"false+",6} {"precision",9}");
        foreach (var detector in DataBoundaryPolicy.BuiltInDetectors)
        {
            var tp = truePositives.GetValueOrDefault(detector);
            var all = expected.GetValueOrDefault(detector);
            var fp = falsePositives.GetValueOrDefault(detector);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{detector,-12} {all,9} {tp,6} {(all == 0 ? 1 : (double)tp / all),7:P1} {fp,6} {(tp + fp == 0 ? 1 : (double)tp / (tp + fp)),9:P1}"));
        }
        output.WriteLine($"{lines.Count} lines: {positives} positive, {lines.Count - positives} negative, {Fields.Count} fields");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(40)) + $"\n({failures.Count} failures)");
    }

    /// <summary>The text without its «» marks, and the field as it must read after redaction.</summary>
    private static (string Text, string Wanted) Unmark(Line line)
    {
        var open = line.Text.IndexOf('«', StringComparison.Ordinal);
        if (open < 0)
        {
            return (line.Text, line.Text);
        }
        var close = line.Text.IndexOf('»', open);
        var value = line.Text[(open + 1)..close];
        var text = line.Text[..open] + value + line.Text[(close + 1)..];
        return (text, line.Text[..open] + "[REDACTED:" + line.Label + "]" + line.Text[(close + 1)..]);
    }
}
