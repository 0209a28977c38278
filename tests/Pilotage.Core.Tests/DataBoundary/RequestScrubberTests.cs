using System.Text.Json.Nodes;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

public class RequestScrubberTests
{
    private static readonly DataBoundaryPolicy Policy = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Block = ["credit_card"],
        Redact = ["email", "phone"],
    });

    private const string ChatRequest = """
        {
          "model": "support-reply-drafts",
          "temperature": 0.2,
          "stream": true,
          "metadata": { "contact": "meta@example.org" },
          "tools": [ { "type": "function", "function": { "name": "lookup", "description": "mail x@example.org" } } ],
          "messages": [
            { "role": "system", "content": "You draft replies." },
            { "role": "user", "name": "dana@example.org", "content": "Customer dana@example.org asks, call +44 20 7946 0958." },
            { "role": "user", "content": [
                { "type": "text", "text": "Second address: lee@example.com" },
                { "type": "image_url", "image_url": { "url": "https://example.org/a@b.com.png" } },
                { "type": "text", "text": "nothing here" }
            ] },
            { "role": "assistant", "content": null, "tool_calls": [] }
          ]
        }
        """;

    [Fact]
    public void Every_text_field_is_redacted_in_place()
    {
        var request = JsonNode.Parse(ChatRequest)!;
        var result = RequestScrubber.ScrubChatCompletion(request, Policy);

        Assert.False(result.Blocked);
        Assert.True(result.Redacted);
        var messages = request["messages"]!.AsArray();
        Assert.Equal("Customer [REDACTED:email] asks, call [REDACTED:phone].", (string?)messages[1]!["content"]);
        Assert.Equal("[REDACTED:email]", (string?)messages[1]!["name"]);
        Assert.Equal("Second address: [REDACTED:email]", (string?)messages[2]!["content"]![0]!["text"]);
        Assert.Equal("nothing here", (string?)messages[2]!["content"]![2]!["text"]);
        Assert.Equal("[REDACTED:email]", (string?)request["metadata"]!["contact"]);
        Assert.Equal("mail [REDACTED:email]", (string?)request["tools"]![0]!["function"]!["description"]);
        Assert.Equal(
            [new DetectorCount("email", BoundaryAction.Redact, 6), new DetectorCount("phone", BoundaryAction.Redact, 1)],
            result.Counts);
        Assert.Equal(
            ["metadata.contact", "tools[0].function.description", "messages[1].name", "messages[1].content", "messages[1].content",
             "messages[2].content[0].text", "messages[2].content[1].image_url.url"],
            result.Hits.Select(h => h.Path));
    }

    [Fact]
    public void Structural_fields_are_left_untouched()
    {
        var request = JsonNode.Parse(ChatRequest)!;
        RequestScrubber.ScrubChatCompletion(request, Policy);
        var original = JsonNode.Parse(ChatRequest)!;

        // Blank out exactly the fields the scrubber may change; the rest must be equal, node for node.
        foreach (var node in new[] { request, original })
        {
            node["metadata"]!["contact"] = "";
            node["tools"]![0]!["function"]!["description"] = "";
            node["messages"]![1]!["name"] = "";
            node["messages"]![1]!["content"] = "";
            node["messages"]![2]!["content"]![0]!["text"] = "";
            node["messages"]![2]!["content"]![1]!["image_url"]!["url"] = "";
        }
        Assert.True(JsonNode.DeepEquals(original, request), request.ToJsonString());
    }

    [Fact]
    public void A_blocked_request_says_which_detector_and_never_the_value()
    {
        var request = JsonNode.Parse("""{"messages":[{"role":"user","content":"my card is 4111 1111 1111 1111"}]}""")!;
        var result = RequestScrubber.ScrubChatCompletion(request, Policy);

        Assert.True(result.Blocked);
        Assert.Equal(["credit_card"], result.BlockedBy);
        Assert.Equal("my card is [REDACTED:credit_card]", (string?)request["messages"]![0]!["content"]);
        var printed = result + string.Join(",", result.Hits);
        Assert.DoesNotContain("4111", printed, StringComparison.Ordinal);
    }

    [Fact]
    public void A_clean_request_or_an_empty_policy_changes_nothing()
    {
        var request = JsonNode.Parse("""{"messages":[{"role":"user","content":"hello"}]}""")!;
        var content = request["messages"]![0]!["content"];

        var clean = RequestScrubber.ScrubChatCompletion(request, Policy);
        Assert.False(clean.Blocked);
        Assert.False(clean.Redacted);
        Assert.Same(content, request["messages"]![0]!["content"]);

        var withCard = JsonNode.Parse(ChatRequest)!;
        Assert.False(RequestScrubber.ScrubChatCompletion(withCard, DataBoundaryPolicy.None).Redacted);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(ChatRequest), withCard));
    }

    [Fact]
    public void Malformed_requests_are_not_an_error()
    {
        Assert.False(RequestScrubber.ScrubChatCompletion(null, Policy).Blocked);
        Assert.False(RequestScrubber.ScrubChatCompletion(JsonNode.Parse("[]"), Policy).Blocked);
        Assert.False(RequestScrubber.ScrubChatCompletion(JsonNode.Parse("""{"messages":{"x":1}}"""), Policy).Blocked);
        Assert.False(RequestScrubber.ScrubChatCompletion(JsonNode.Parse("""{"messages":[1,"a",{"content":5}]}"""), Policy).Blocked);
    }

    [Fact]
    public void Embedding_input_as_a_string_or_strings_is_redacted()
    {
        var single = JsonNode.Parse("""{"model":"m","input":"ask dana@example.org"}""")!;
        var one = RequestScrubber.ScrubEmbeddings(single, Policy);
        Assert.Equal("ask [REDACTED:email]", (string?)single["input"]);
        Assert.Equal("input", Assert.Single(one.Hits).Path);

        var many = JsonNode.Parse("""{"model":"m","input":["plain","call +44 20 7946 0958"],"dimensions":256}""")!;
        var result = RequestScrubber.ScrubEmbeddings(many, Policy);
        Assert.Equal("plain", (string?)many["input"]![0]);
        Assert.Equal("call [REDACTED:phone]", (string?)many["input"]![1]);
        Assert.Equal(256, (int)many["dimensions"]!);
        Assert.Equal("input[1]", Assert.Single(result.Hits).Path);
        Assert.False(result.Blocked);
    }

    [Fact]
    public void Embedding_input_as_token_ids_cannot_be_inspected_and_is_refused()
    {
        var tokens = JsonNode.Parse("""{"model":"m","input":[[101,2023],[101,2024]]}""")!;
        var result = RequestScrubber.ScrubEmbeddings(tokens, Policy);
        Assert.True(result.Blocked);
        Assert.Equal(["input[0]"], result.Uninspectable);
        Assert.Empty(result.BlockedBy);

        // Without detectors there is nothing to enforce, so nothing to refuse.
        Assert.False(RequestScrubber.ScrubEmbeddings(tokens, DataBoundaryPolicy.None).Blocked);
    }
}
