using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Gateway;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;
using Pilotage.Server.Gateway;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// A chat request checked and written from its parsed elements gets the verdict and the bytes the tree gave: the same
/// 400 for every shape, and, configured, the same body sent, byte for byte, on random bodies and configurations.
/// </summary>
public sealed class ConfiguredChatBodyTests
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    [Fact]
    public void The_body_written_from_its_elements_is_the_configured_tree_byte_for_byte()
    {
        var random = new Random(27);
        for (var n = 0; n < 3000; n++)
        {
            var bytes = Encoding.UTF8.GetBytes(Body(random, valid: true));
            var system = SystemOf(random, sideEffecting: false);
            var mode = (ServingMode)random.Next(5);
            var tree = (JsonObject)JsonNode.Parse(bytes, documentOptions: ParseOptions)!;
            // The tree as the pipeline leaves it: checked (which builds it), then configured and written.
            Assert.Null(RequestShape.ChatProblem(tree));
            var clientStream = tree["stream"]?.GetValueKind() == JsonValueKind.True;
            var expectedStream = SystemConfiguration.ApplyChat(tree, system, mode, clientStream);
            var expected = ScrubbedBody.ToUtf8Bytes(tree);

            var (sent, stream) = ConfiguredChatBody.Write(JsonElement.Parse(bytes, ParseOptions), system, mode, clientStream);
            Assert.Equal(expectedStream, stream);
            Assert.True(expected.AsSpan().SequenceEqual(sent), $"body {Encoding.UTF8.GetString(bytes)}\nmode {mode}\ntree     {Encoding.UTF8.GetString(expected)}\nelements {Encoding.UTF8.GetString(sent)}");
        }
    }

    [Fact]
    public void Every_shape_gets_the_same_verdict_from_the_elements_as_from_the_tree()
    {
        var random = new Random(28);
        var problems = 0;
        for (var n = 0; n < 5000; n++)
        {
            var text = Body(random, valid: false);
            var tree = (JsonObject)JsonNode.Parse(text, documentOptions: ParseOptions)!;
            if (tree["messages"] is not JsonArray { Count: > 0 }) continue;
            var expected = RequestShape.ChatProblem(tree);
            Assert.Equal(expected, RequestShape.ChatProblem(JsonElement.Parse(text, ParseOptions)));
            if (expected is not null) problems++;
        }
        // The random shapes reach the problems, not only clean bodies.
        Assert.True(problems > 1000, $"{problems} problems");
    }

    [Fact]
    public void Only_a_chat_body_that_no_stage_changes_is_written_from_its_elements()
    {
        var random = new Random(29);
        var element = JsonElement.Parse("""{"model":"s","messages":[{"role":"user","content":"hi"}]}""");
        var plain = SystemOf(random, sideEffecting: false);
        var withTools = SystemOf(random, sideEffecting: true);
        var bounded = plain with { Boundary = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = ["email"] }) };
        Assert.False(bounded.Boundary.IsEmpty);
        Assert.True(ConfiguredChatBody.Applies(Admitted(plain, ServingMode.Full, element)));
        Assert.True(ConfiguredChatBody.Applies(Admitted(plain, ServingMode.ReadOnly, element)));
        Assert.True(ConfiguredChatBody.Applies(Admitted(withTools, ServingMode.Full, element)));
        // The boundary scans the elements and keeps what it redacts; read-only mode removes tools from the tree, a
        // translation has no elements.
        Assert.True(ConfiguredChatBody.Applies(Admitted(bounded, ServingMode.Full, element)));
        Assert.False(ConfiguredChatBody.Applies(Admitted(withTools, ServingMode.ReadOnly, element)));
        Assert.False(ConfiguredChatBody.Applies(Admitted(plain, ServingMode.Full, null)));
    }

    internal static AdmittedRequest Admitted(GatewaySystem system, ServingMode mode, JsonElement? received)
    {
        var user = new Principal(1, "a@example.org", default, true, System.Collections.Frozen.FrozenSet<string>.Empty);
        var key = new KeyGrant("k", [], null, false, user);
        var subject = new Subject(new Arrival("i", GatewayOperation.Chat, DateTimeOffset.UnixEpoch), key, system, new ServingScope([], mode, "test"));
        return new AdmittedRequest(subject, new ClientRequest("s", [], false, Received: received), null!);
    }

    internal static GatewaySystem SystemOf(Random random, bool sideEffecting)
    {
        string?[] prompts = [null, "", "You draft polite replies.", "Réponds « poliment » \"always\"\n<b>&</b> 東京 🚀"];
        double?[] reals = [null, 0, 0.7, 1, 0.1 + 0.2, 1e-7, 2];
        int?[] counts = [null, 1, 256, int.MaxValue];
        var spec = new SystemSpec
        {
            Name = "s",
            Owner = "owner@example.org",
            Purpose = "tests",
            Upstream = new UpstreamSpec { BaseUrl = "http://upstream/v1", Model = random.Next(3) == 0 ? "modèle \"x\"" : "gpt-4o-mini" },
            Config = new ConfigSpec
            {
                SystemPrompt = prompts[random.Next(prompts.Length)],
                Temperature = reals[random.Next(reals.Length)],
                TopP = reals[random.Next(reals.Length)],
                MaxTokens = counts[random.Next(counts.Length)],
            },
            Tools = new ToolsSpec { SideEffecting = sideEffecting ? ["send_email"] : [] },
        };
        return GatewaySystem.From(new SystemState(1, spec, new LifecycleState(LifecyclePhase.Pilot), 1));
    }

    /// <summary>
    /// A chat body with its members in random order: the configured ones present or not (or null), texts with escapes and
    /// characters outside ASCII, names spelled with escapes. Not <paramref name="valid"/>: any member may have any kind.
    /// </summary>
    private static string Body(Random random, bool valid)
    {
        var members = new List<string> { $"\"model\":{Text(random)}", $"\"messages\":{Messages(random, valid)}" };
        void Maybe(string name, Func<string> value)
        {
            if (random.Next(3) == 0) return;
            members.Add($"{Name(random, name)}:{(random.Next(8) == 0 ? "null" : valid ? value() : Any(random, 2))}");
        }
        Maybe("stream", () => random.Next(2) == 0 ? "true" : "false");
        Maybe("stream_options", () => random.Next(2) == 0 ? "{\"include_usage\":true}" : "{\"include_usage\":false,\"x\":[1]}");
        Maybe("temperature", () => "0.25");
        Maybe("top_p", () => "1.0e0");
        Maybe("max_tokens", () => "100");
        Maybe("max_completion_tokens", () => "200");
        Maybe("tools", () => "[{\"type\":\"function\",\"function\":{\"name\":\"send_email\",\"parameters\":{}}},{\"type\":\"function\",\"function\":{\"name\":null}}]");
        Maybe("tool_choice", () => random.Next(2) == 0 ? "\"auto\"" : "{\"type\":\"function\",\"function\":{\"name\":\"lookup\"}}");
        Maybe("functions", () => "[{\"name\":\"lookup\"},{\"description\":\"x\"}]");
        Maybe("function_call", () => random.Next(2) == 0 ? "\"none\"" : "{\"name\":\"lookup\"}");
        Maybe("user", () => Text(random));
        Maybe("metadata", () => $"{{\"k\\u00e9y\":{Text(random)},\"n\":[1,2.50,-0,1e3,{{}}]}}");
        Maybe("extra_\u00e9", () => Any(random, 3));
        if (!valid && random.Next(4) == 0) members.Add($"\"messages_extra\":{Any(random, 2)}");
        var shuffled = members.OrderBy(_ => random.Next()).ToList();
        return "{" + string.Join(random.Next(2) == 0 ? "," : " ,\n ", shuffled) + "}";
    }

    private static string Messages(Random random, bool valid)
    {
        var items = new List<string>();
        for (var i = random.Next(valid ? 1 : 0, 4); i > 0; i--)
        {
            if (!valid && random.Next(6) == 0)
            {
                items.Add(Any(random, 2));
                continue;
            }
            var role = valid || random.Next(5) > 0 ? "\"role\":\"user\"" : $"\"role\":{Any(random, 1)}";
            var content = (valid ? random.Next(4) : random.Next(6)) switch
            {
                0 => "",
                1 => $",\"content\":{Text(random)}",
                2 => ",\"content\":null",
                3 => $",\"content\":[{{\"type\":\"text\",\"text\":{Text(random)}}},{{\"type\":\"image_url\",\"image_url\":{{\"url\":\"https://x\"}}}}]",
                4 => $",\"content\":[{(random.Next(2) == 0 ? Any(random, 1) : $"{{\"type\":\"text\",\"text\":{Any(random, 1)}}}")}]",
                _ => $",\"content\":{Any(random, 2)}",
            };
            items.Add("{" + role + content + (random.Next(3) == 0 ? ",\"name\":\"n\\u00e9\"" : "") + "}");
        }
        return "[" + string.Join(",", items) + "]";
    }

    /// <summary>A value of any kind, nested up to <paramref name="depth"/>.</summary>
    private static string Any(Random random, int depth) => random.Next(depth > 0 ? 8 : 6) switch
    {
        0 => "null",
        1 => "true",
        2 => "false",
        3 => (random.Next(-1000, 1000) / 8.0).ToString(CultureInfo.InvariantCulture),
        4 or 5 => Text(random),
        6 => "[" + string.Join(",", Enumerable.Range(0, random.Next(3)).Select(_ => Any(random, depth - 1))) + "]",
        _ => "{" + string.Join(",", Enumerable.Range(0, random.Next(3)).Select(i => $"\"{(char)('a' + i)}\":{Any(random, depth - 1)}")) + "}",
    };

    private static string Text(Random random)
    {
        string[] pieces = ["hello", " ", "é", "東京", "🚀", "\\n", "\\\"", "\\u00e9", "\\ud83d\\ude80", "<b>", "&", "'", "\\/"];
        return "\"" + string.Concat(Enumerable.Range(0, random.Next(0, 6)).Select(_ => pieces[random.Next(pieces.Length)])) + "\"";
    }

    /// <summary>A member's name, now and then spelled with an escape (<c>"mod\u0065l"</c>): the same name to a reader.</summary>
    private static string Name(Random random, string name) =>
        random.Next(5) == 0 ? "\"" + name[..^1] + $"\\u{(int)name[^1]:x4}\"" : "\"" + name + "\"";
}
