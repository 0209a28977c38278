using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text;
using Pilotage.Core.Evidence;
using Pilotage.Server.Api;
using Pilotage.Server.Gateway;

namespace Pilotage.Server.Reviews;

/// <summary>A review request after validation.</summary>
internal sealed record ReviewInput(
    ReviewOutcome Outcome,
    string? FinalText,
    double? Seconds,
    double? ReworkSeconds,
    string? Reason,
    IReadOnlyList<string> Tags,
    string? EscalatedTo);

/// <summary>
/// What a review, feedback or task time may contain. Every refusal names the field and says what is
/// accepted, because apps show these messages to the people who typed the values.
/// </summary>
internal static partial class ReviewRules
{
    /// <summary>
    /// Tags the reports know. Others are accepted when they look like these (lowercase words joined by
    /// underscores): teams name their own failure modes, and a fixed list would push them into "other".
    /// <c>out_of_scope</c> is the one tag with a metric of its own (out_of_scope_rate).
    /// </summary>
    public static readonly string[] KnownTags =
    [
        ReviewOutcomes.OutOfScopeTag, "factual_error", "policy", "tone", "incomplete", "formatting", "privacy", "harmful", "outdated", "other",
    ];

    public const int MaxTags = 10;
    public const int MaxFinalText = 100_000;
    public const int MaxReason = 2_000;
    public const int MaxComment = 2_000;
    public const int MaxManualText = 100_000;

    /// <summary>Review and rework times are seconds of one person on one item: a day or more is a typo or a clock left running.</summary>
    public const double MaxSeconds = 86_400;

    /// <summary>Task times likewise stay under a day, in minutes.</summary>
    public const double MaxMinutes = 1_440;

    [GeneratedRegex("^[a-z][a-z0-9_]{0,39}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    public static ReviewInput Validate(ReviewRequest? request)
    {
        if (request is null) throw Problems.BadRequest("send a JSON body: {\"outcome\": \"accepted|edited|rejected|escalated\", …}");
        var outcomeText = request.Outcome?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(outcomeText)) throw Problems.BadRequest($"'outcome' is required: one of {string.Join(", ", ReviewOutcomes.Names)}");
        var outcome = ReviewOutcomes.Parse(outcomeText)
            ?? throw Problems.BadRequest($"unknown outcome '{request.Outcome}': use one of {string.Join(", ", ReviewOutcomes.Names)}");
        if (outcome == ReviewOutcome.Edited && string.IsNullOrWhiteSpace(request.FinalText))
        {
            throw Problems.BadRequest("an 'edited' review needs 'final_text': the answer as it was sent, so the rework can be measured");
        }
        if (request.FinalText is { Length: > MaxFinalText }) throw Problems.BadRequest($"'final_text' is longer than {MaxFinalText} characters");
        var reason = string.IsNullOrWhiteSpace(request.Reason) ? null : request.Reason.Trim();
        if (outcome == ReviewOutcome.Rejected && reason is null) throw Problems.BadRequest("a 'rejected' review needs a 'reason': reports and the app show why");
        if (reason is { Length: > MaxReason }) throw Problems.BadRequest($"'reason' is longer than {MaxReason} characters");
        var escalatedTo = string.IsNullOrWhiteSpace(request.EscalatedTo) ? null : request.EscalatedTo.Trim();
        if (escalatedTo is { Length: > 200 }) throw Problems.BadRequest("'escalated_to' is longer than 200 characters");
        return new ReviewInput(outcome, request.FinalText, Duration(request.Seconds, "seconds"), Duration(request.ReworkSeconds, "rework_seconds"),
            reason, Tags(request.Tags), escalatedTo);
    }

    public static (int Rating, string? Comment) Validate(FeedbackRequest? request)
    {
        if (request?.Rating is not { } rating || rating is < 1 or > 5) throw Problems.BadRequest("'rating' is required: a whole number from 1 (poor) to 5 (excellent)");
        var comment = string.IsNullOrWhiteSpace(request.Comment) ? null : request.Comment.Trim();
        if (comment is { Length: > MaxComment }) throw Problems.BadRequest($"'comment' is longer than {MaxComment} characters");
        return (rating, comment);
    }

    public static double Minutes(double? minutes)
    {
        if (minutes is not { } value) throw Problems.BadRequest("'minutes' is required: the minutes a person spent on the task");
        if (!double.IsFinite(value) || value < 0 || value >= MaxMinutes) throw Problems.BadRequest($"'minutes' must be at least 0 and less than {MaxMinutes} (a day); got {value.ToString(CultureInfo.InvariantCulture)}");
        return value;
    }

    private static double? Duration(double? seconds, string field)
    {
        if (seconds is not { } value) return null;
        if (!double.IsFinite(value) || value < 0 || value >= MaxSeconds)
        {
            throw Problems.BadRequest($"'{field}' must be at least 0 and less than {MaxSeconds} (a day); got {value.ToString(CultureInfo.InvariantCulture)}");
        }
        return value;
    }

    private static List<string> Tags(IReadOnlyList<string>? tags)
    {
        var result = new List<string>();
        foreach (var raw in tags ?? [])
        {
            var tag = raw?.Trim() ?? "";
            if (!TagPattern().IsMatch(tag))
            {
                throw Problems.BadRequest($"tag '{raw}' is not valid: use lowercase words joined by underscores (at most 40 characters), such as {string.Join(", ", KnownTags)}");
            }
            if (!result.Contains(tag)) result.Add(tag);
        }
        if (result.Count > MaxTags) throw Problems.BadRequest($"at most {MaxTags} tags per review");
        result.Sort(StringComparer.Ordinal);
        return result;
    }

    /// <summary>A stored review's outcome (the store holds only the four names; anything else counts as escalated).</summary>
    public static ReviewOutcome OutcomeOf(string stored) => ReviewOutcomes.Parse(stored) ?? ReviewOutcome.Escalated;

    public static string? TagsJson(IReadOnlyList<string> tags) =>
        tags.Count == 0 ? null : JsonSerializer.Serialize(tags.ToArray(), Gateway.GatewayJsonContext.Default.StringArray);

    public static IReadOnlyList<string> ParseTags(string? json)
    {
        if (string.IsNullOrEmpty(json)) return [];
        try
        {
            return JsonSerializer.Deserialize(json, Gateway.GatewayJsonContext.Default.StringArray) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}

/// <summary>Reads the texts a reviewer compares out of stored OpenAI payloads.</summary>
internal static class ContentText
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    /// <summary>
    /// The assistant's answer: the first choice's message content of a chat completion, or the text
    /// itself where the gateway stored plain text (streamed answers, which it assembles from the
    /// deltas, and manual work). An answer whose keys cannot be decoded is shown as it came.
    /// </summary>
    public static string? Answer(string? content, bool plain)
    {
        if (content is null || plain) return content;
        try
        {
            if (Parse(content) is not JsonObject json) return content;
            return UntrustedJson.Member(json, "choices") is JsonArray { Count: > 0 } choices
                ? Text(UntrustedJson.Member(UntrustedJson.Member(choices[0], "message"), "content"))
                : null;
        }
        catch (InvalidDataException)
        {
            return content;
        }
    }

    /// <summary>The last user message of a chat request (plain text for manual work).</summary>
    public static string? Prompt(string? content, bool plain)
    {
        if (content is null || plain) return content;
        try
        {
            if (UntrustedJson.Member(Parse(content), "messages") is not JsonArray messages) return null;
            for (var i = messages.Count - 1; i >= 0; i--)
            {
                if (UntrustedJson.Text(UntrustedJson.Member(messages[i], "role")) == "user")
                {
                    return Text(UntrustedJson.Member(messages[i], "content"));
                }
            }
            return null;
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>A held completion with the reviewer's text as the answer, so the app fetches what the reviewer approved.</summary>
    public static string ReplaceAnswer(string held, string text)
    {
        try
        {
            if (Parse(held) is JsonObject json && UntrustedJson.Member(json, "choices") is JsonArray { Count: > 0 } choices && choices[0] is JsonObject choice)
            {
                if (UntrustedJson.Member(choice, "message") is not JsonObject message) choice["message"] = message = new JsonObject { ["role"] = "assistant" };
                message["content"] = text;
                // A tool or function call the reviewer did not write must not ride along with the text they approved.
                message.Remove("tool_calls");
                message.Remove("function_call");
                if (UntrustedJson.Text(UntrustedJson.Member(choice, "finish_reason")) is "tool_calls" or "function_call") choice["finish_reason"] = "stop";
                return json.ToJsonString();
            }
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException)
        {
            // Keys or text that cannot be decoded (writing the tree decodes every string): the reviewer's text
            // goes out in a plain completion instead.
        }
        return new JsonObject
        {
            ["object"] = "chat.completion",
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text },
                ["finish_reason"] = "stop",
            }),
        }.ToJsonString();
    }

    public static JsonElement? Element(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonNode? Parse(string content)
    {
        try
        {
            return JsonNode.Parse(content, documentOptions: Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A content field: a string, or an array of parts whose text parts are joined.</summary>
    private static string? Text(JsonNode? content)
    {
        switch (content)
        {
            case JsonValue value:
                return UntrustedJson.Text(value);
            case JsonArray parts:
                var text = new StringBuilder();
                foreach (var part in parts)
                {
                    text.Append(UntrustedJson.Text(UntrustedJson.Member(part, "text")));
                }
                return text.ToString();
            default:
                return null;
        }
    }
}
