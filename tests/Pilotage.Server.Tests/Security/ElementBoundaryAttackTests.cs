using System.Net;
using System.Text;
using System.Text.Json;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// A chat client's request to a chat system with a boundary is scanned and written from its parsed elements, without its
/// tree. Tried against a real server: an address in every field that reaches the model (content, parts, <c>name</c>, tool
/// call arguments, <c>user</c>, <c>metadata</c>, a property name, escaped or not) is redacted and a card number refused,
/// and the upstream receives neither, nor does the evidence keep them.
/// </summary>
public sealed class ElementBoundaryAttackTests
{
    private const string Boundary = """
          dataBoundary:
            block: [credit_card]
            redact: [email]
        """;

    /// <summary>Bodies with <c>VALUE</c> where the data goes: a field each, then the same in a key.</summary>
    private static readonly (string Field, string Json)[] Fields =
    [
        ("content", """{"messages":[{"role":"user","content":"write to VALUE today"}]}"""),
        ("content part", """{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"write to VALUE"}]}]}"""),
        ("long content", """{"messages":[{"role":"user","content":"LONG write to VALUE LONG"}]}"""),
        ("message name", """{"messages":[{"role":"user","name":"VALUE","content":"hi"}]}"""),
        ("tool call arguments", """{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"mail","arguments":"{\"to\":\"VALUE\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"ok"}]}"""),
        ("user", """{"user":"VALUE","messages":[{"role":"user","content":"hi"}]}"""),
        ("metadata", """{"metadata":{"note":["x",{"deep":"VALUE"}]},"messages":[{"role":"user","content":"hi"}]}"""),
        ("a long structural value", """{"messages":[{"role":"user","content":"hi","type":"LONG VALUE"}]}"""),
        ("a property name", """{"metadata":{"VALUE":"x"},"messages":[{"role":"user","content":"hi"}]}"""),
        ("a property name in a message", """{"messages":[{"role":"user","content":"hi","VALUE":1}]}"""),
    ];

    private static readonly string Long = string.Concat(Enumerable.Repeat("long prose with caf\\u00e9 and words ", 12));

    [Fact]
    public async Task An_address_is_redacted_in_every_field_and_nothing_of_it_reaches_the_upstream()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: Boundary);
        foreach (var (field, json) in Fields)
        {
            foreach (var address in new[] { "dana.lee@example.org", "dana.lee\\u0040example.org" })
            {
                var response = await h.Member.PostAsync("/v1/chat/completions", Raw(json, address));
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{field}: {(int)response.StatusCode} {text}");
                var sent = h.Upstream.LastRequest.ToJsonString();
                Assert.DoesNotContain("dana.lee", sent, StringComparison.Ordinal);
                Assert.DoesNotContain("example.org", sent, StringComparison.Ordinal);
                Assert.Contains("[REDACTED:email]", sent, StringComparison.Ordinal);
                var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
                Assert.Contains("\"email\":{\"count\":1,\"action\":\"redact\"}", record.DetectorHits, StringComparison.Ordinal);
                Assert.DoesNotContain("dana.lee", record.RequestContent ?? "", StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task A_card_number_is_refused_in_every_field_and_nothing_is_sent()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: Boundary);
        foreach (var (field, json) in Fields)
        {
            foreach (var card in new[] { "4111 1111 1111 1111", "\\u0034111\\u00a01111\\u00a01111\\u00a01111" })
            {
                var response = await h.Member.PostAsync("/v1/chat/completions", Raw(json, card));
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{field}: {(int)response.StatusCode} {text}");
                Assert.Equal("data_boundary_blocked", JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("code").GetString());
                var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
                Assert.Contains("\"credit_card\":{\"count\":1,\"action\":\"block\"}", record.DetectorHits, StringComparison.Ordinal);
            }
        }
        Assert.Empty(h.Upstream.Received);
    }

    /// <summary>The body for the harness's system with <paramref name="value"/> (as JSON spells it) in place of VALUE.</summary>
    private static StringContent Raw(string json, string value) =>
        new("{\"model\":\"" + GatewayHarness.System + "\"," + json[1..].Replace("LONG", Long, StringComparison.Ordinal).Replace("VALUE", value, StringComparison.Ordinal),
            Encoding.UTF8, "application/json");
}
