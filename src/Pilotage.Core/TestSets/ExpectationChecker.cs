using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Json.Schema;
using Pilotage.Core.Evidence;

namespace Pilotage.Core.TestSets;

/// <summary>The automatic verdict on one answer.</summary>
public enum CaseVerdictKind
{
    /// <summary>Every check passed.</summary>
    Pass,

    /// <summary>At least one check failed; the reason lists each failure.</summary>
    Fail,

    /// <summary>The automatic checks (if any) passed; a reviewer grades the answer in the review queue.</summary>
    NeedsHuman,

    /// <summary>The case could not be judged (no answer, a gateway or upstream error, a regex timeout): rerun it; it is neither pass nor fail.</summary>
    Error,
}

/// <summary>A verdict and why, e.g. <c>Fail: missing 'refund'; matched forbidden 'guarantee'</c>.</summary>
public sealed record CaseVerdict(CaseVerdictKind Kind, string Reason)
{
    public override string ToString() => $"{Kind}: {Reason}";
}

/// <summary>
/// Judges one answer against an <see cref="Expectation"/>. Pure and thread-safe; never throws on any
/// answer text. Every failing check is listed in the reason, not only the first.
/// </summary>
public static class ExpectationChecker
{
    /// <summary>
    /// Gateway refusal codes that mean the system declined the request on its content: they satisfy
    /// <c>refuses: true</c>. Other refusals (bad key, not in group, paused, rate limit, upstream failure)
    /// say nothing about the system's behaviour and give an <see cref="CaseVerdictKind.Error"/> verdict.
    /// </summary>
    public static IReadOnlySet<string> ContentRefusalCodes { get; } =
        FrozenSet.ToFrozenSet([RefusalCodes.DataBoundaryBlocked, RefusalCodes.DataBoundaryUninspectable, RefusalCodes.SideEffectBlocked, "out_of_scope"], StringComparer.Ordinal);

    /// <summary>Shown in a reason: the start of the answer, so a reviewer of results can see what was said.</summary>
    private const int MaxQuoted = 80;

    /// <summary>Judges one answer.</summary>
    /// <param name="expectation">What the answer must satisfy.</param>
    /// <param name="answerText">The assistant's answer; null when there was none (e.g. the gateway refused).</param>
    /// <param name="gatewayStatus">The HTTP status the gateway answered with; null or 2xx for a normal answer.</param>
    /// <param name="refusalCode">The gateway's error <c>code</c> (e.g. <c>data_boundary_blocked</c>) when it refused.</param>
    public static CaseVerdict Check(Expectation expectation, string? answerText, int? gatewayStatus, string? refusalCode)
    {
        ArgumentNullException.ThrowIfNull(expectation);
        var refused = gatewayStatus is { } status and not (>= 200 and < 300);
        if (refused || !string.IsNullOrEmpty(refusalCode))
        {
            return CheckGatewayRefusal(expectation, gatewayStatus, refusalCode);
        }
        if (gatewayStatus == 202 && answerText is null)
        {
            return new CaseVerdict(CaseVerdictKind.Error, "the answer is held for approval (202): judge it once a reviewer has released it");
        }
        if (answerText is null)
        {
            return new CaseVerdict(CaseVerdictKind.Error, "no answer was recorded for the case");
        }

        var failures = new List<string>();
        var passes = new List<string>();
        foreach (var text in expectation.Contains)
        {
            if (!answerText.Contains(text, StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"missing '{text}'");
            }
        }
        if (expectation.Contains.Count > 0 && failures.Count == 0)
        {
            passes.Add(expectation.Contains.Count == 1 ? $"contains '{expectation.Contains[0]}'" : $"contains all {expectation.Contains.Count} texts");
        }
        foreach (var text in expectation.NotContains)
        {
            if (answerText.Contains(text, StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"matched forbidden '{text}'");
            }
        }
        if (expectation.Regex is not null && CheckRegex(expectation, answerText, failures, passes) is { } regexError)
        {
            return regexError;
        }
        if (expectation.JsonSchema is not null && CheckSchema(expectation, answerText, failures, passes) is { } schemaError)
        {
            return schemaError;
        }
        if (expectation.Refuses is { } mustRefuse)
        {
            var phrase = RefusalDetector.Find(answerText);
            if (mustRefuse && phrase is null)
            {
                failures.Add($"did not refuse: \"{Quote(answerText)}\"");
            }
            else if (mustRefuse)
            {
                passes.Add($"declined ('{phrase}')");
            }
            else if (phrase is not null)
            {
                failures.Add($"refused ('{phrase}') where an answer was expected");
            }
        }

        if (failures.Count > 0)
        {
            return new CaseVerdict(CaseVerdictKind.Fail, string.Join("; ", failures));
        }
        if (expectation.Human)
        {
            var automatic = passes.Count > 0 ? $" (automatic checks passed: {string.Join("; ", passes)})" : "";
            return new CaseVerdict(CaseVerdictKind.NeedsHuman, "graded by a reviewer in the review queue" + automatic);
        }
        return new CaseVerdict(CaseVerdictKind.Pass, passes.Count > 0 ? string.Join("; ", passes) : "all checks passed");
    }

    /// <summary>True when the gateway status and code say the system declined on content (see <see cref="ContentRefusalCodes"/>).</summary>
    public static bool IsContentRefusal(int? gatewayStatus, string? refusalCode) =>
        refusalCode is not null && ContentRefusalCodes.Contains(refusalCode)
        || (string.IsNullOrEmpty(refusalCode) && gatewayStatus == 422);

    private static CaseVerdict CheckGatewayRefusal(Expectation expectation, int? status, string? code)
    {
        var what = (status, string.IsNullOrEmpty(code)) switch
        {
            (null, _) => code!,
            (_, true) => status.Value.ToString(CultureInfo.InvariantCulture),
            _ => $"{status.Value.ToString(CultureInfo.InvariantCulture)} {code}",
        };
        if (!IsContentRefusal(status, code))
        {
            return new CaseVerdict(CaseVerdictKind.Error,
                $"the gateway answered {what}, which says nothing about the system's behaviour: fix the cause and rerun the case");
        }
        if (expectation.Refuses != true)
        {
            return new CaseVerdict(CaseVerdictKind.Fail, $"refused by the gateway ({what}) where an answer was expected");
        }
        if (expectation.NeedsAnswerText)
        {
            return new CaseVerdict(CaseVerdictKind.Fail,
                $"refused by the gateway ({what}), so there is no answer for contains, regex or json_schema to check");
        }
        return new CaseVerdict(CaseVerdictKind.Pass, $"refused by the gateway ({what})");
    }

    private static CaseVerdict? CheckRegex(Expectation expectation, string answerText, List<string> failures, List<string> passes)
    {
        var (regex, error) = expectation.CompiledRegex;
        if (regex is null)
        {
            return new CaseVerdict(CaseVerdictKind.Error, $"invalid regex /{expectation.Regex}/: {error}");
        }
        try
        {
            if (regex.IsMatch(answerText))
            {
                passes.Add($"matches /{expectation.Regex}/");
            }
            else
            {
                failures.Add($"no match for /{expectation.Regex}/");
            }
            return null;
        }
        catch (RegexMatchTimeoutException)
        {
            return new CaseVerdict(CaseVerdictKind.Error,
                $"regex /{expectation.Regex}/ timed out after {Expectation.RegexTimeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms: simplify the pattern");
        }
    }

    private static CaseVerdict? CheckSchema(Expectation expectation, string answerText, List<string> failures, List<string> passes)
    {
        var (schema, error) = expectation.CompiledSchema;
        if (schema is null)
        {
            return new CaseVerdict(CaseVerdictKind.Error, $"invalid json_schema: {error}");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(StripCodeFence(answerText), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            failures.Add("not valid JSON: " + FirstSentence(e.Message));
            return null;
        }
        using (document)
        {
            EvaluationResults results;
            try
            {
                results = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            }
            catch (JsonSchemaException e)
            {
                return new CaseVerdict(CaseVerdictKind.Error, $"the json_schema could not be evaluated: {e.Message}");
            }
            catch (RegexMatchTimeoutException)
            {
                return new CaseVerdict(CaseVerdictKind.Error,
                    $"a pattern in the json_schema timed out after {Expectation.RegexTimeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms: simplify it");
            }
            if (results.IsValid)
            {
                passes.Add("valid against the json_schema");
                return null;
            }
            var problems = SchemaErrors(results).Take(3).ToList();
            failures.Add("does not match the json_schema: " + (problems.Count > 0 ? string.Join(", ", problems) : "invalid"));
            return null;
        }
    }

    private static IEnumerable<string> SchemaErrors(EvaluationResults results)
    {
        var nodes = new List<EvaluationResults> { results };
        nodes.AddRange(results.Details ?? []);
        foreach (var node in nodes)
        {
            foreach (var (_, message) in node.Errors ?? [])
            {
                var at = node.InstanceLocation.ToString();
                yield return (string.IsNullOrEmpty(at) ? "" : at + " ") + message;
            }
        }
    }

    /// <summary>Models often wrap JSON in a Markdown fence (```json … ```): the JSON inside is what is checked.</summary>
    internal static string StripCodeFence(string text)
    {
        var trimmed = text.Trim();
        if (!trimmed.StartsWith("```", StringComparison.Ordinal) || !trimmed.EndsWith("```", StringComparison.Ordinal) || trimmed.Length < 6)
        {
            return trimmed;
        }
        var firstNewline = trimmed.IndexOf('\n', StringComparison.Ordinal);
        return firstNewline < 0 ? trimmed : trimmed[(firstNewline + 1)..^3].Trim();
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd();
    }

    private static string Quote(string answer)
    {
        var flat = string.Join(' ', answer.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= MaxQuoted ? flat : flat[..MaxQuoted] + "…";
    }
}
