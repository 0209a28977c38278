using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CsCheck;
using Pilotage.Core.Tests.Fuzz;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// Hostile request bodies through the real Kestrel server: every one ends in a 4xx with a readable message
/// (OpenAI error shape on /v1, problem details on /api/v1), never a 500, a hang or a dead server.
/// </summary>
public class HostileRequestTests
{
    private const string System = GatewayHarness.System;

    public static TheoryData<string, string> GatewayBodies => new()
    {
        { "empty", "" },
        { "truncated", "{\"model\":\"" + System + "\",\"messages\":[{\"role\":" },
        { "not an object", "[1,2,3]" },
        { "null", "null" },
        { "a number", "42" },
        { "model a number", "{\"model\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" },
        { "messages a string", "{\"model\":\"" + System + "\",\"messages\":\"hi\"}" },
        { "messages of numbers", "{\"model\":\"" + System + "\",\"messages\":[1,2]}" },
        { "content an object", "{\"model\":\"" + System + "\",\"messages\":[{\"role\":\"user\",\"content\":{\"a\":1}}]}" },
        { "content a number", "{\"model\":\"" + System + "\",\"messages\":[{\"role\":\"user\",\"content\":7}]}" },
        { "parts of the wrong type", "{\"model\":\"" + System + "\",\"messages\":[{\"role\":\"user\",\"content\":[1,{\"type\":5},{\"type\":\"text\",\"text\":9}]}]}" },
        { "role missing", "{\"model\":\"" + System + "\",\"messages\":[{\"content\":\"hi\"}]}" },
        { "stream a string", "{\"model\":\"" + System + "\",\"stream\":\"yes\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" },
        { "tools a string", "{\"model\":\"" + System + "\",\"tools\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" },
        { "deep nesting", "{\"model\":\"" + System + "\",\"messages\":" + new string('[', 10_000) + new string(']', 10_000) + "}" },
        { "lone surrogate", "{\"model\":\"" + System + "\",\"messages\":[{\"role\":\"user\",\"content\":\"\\ud800\"}]}" },
        // System.Text.Json's duplicate-key check throws InvalidOperationException, not JsonException, on these.
        { "lone surrogate in a key", "{\"model\":\"" + System + "\",\"\\ud800\":1,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" },
        { "lone low surrogate in a nested key", "{\"model\":\"" + System + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\",\"x\\udc00y\":2}]}" },
        // Function names are read by read-only mode to remove side-effecting tools; one it cannot read is refused in every mode.
        { "tool function a string", "{\"model\":\"" + System + "\",\"tools\":[{\"type\":\"function\",\"function\":\"send_email\"}],\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" },
        { "tool name a number", "{\"model\":\"" + System + "\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":5}}],\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" },
        { "tool_choice name a number", "{\"model\":\"" + System + "\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":[]}},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" },
        { "functions an object", "{\"model\":\"" + System + "\",\"functions\":{\"name\":\"send_email\"},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" },
        { "function name a number", "{\"model\":\"" + System + "\",\"functions\":[{\"name\":5}],\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" },
        { "function_call a number", "{\"model\":\"" + System + "\",\"functions\":[{\"name\":\"a\"}],\"function_call\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" },
        { "unknown model", "{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" },
        { "duplicate keys", "{\"model\":\"nope\",\"model\":\"" + System + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" },
    };

    [Theory]
    [MemberData(nameof(GatewayBodies))]
    public async Task A_malformed_chat_request_is_a_4xx_with_an_OpenAI_error(string what, string body)
    {
        await using var h = await GatewayHarness.StartAsync();
        using var response = await PostAsync(h.Member, "/v1/chat/completions", Encoding.UTF8.GetBytes(body));
        await AssertOpenAiClientErrorAsync(response, what);
        await AssertHealthyAsync(h);
    }

    [Fact]
    public async Task Invalid_utf8_and_a_50_MB_string_are_4xx_on_both_gateway_endpoints()
    {
        await using var h = await GatewayHarness.StartAsync();
        byte[] invalid = [.. "{\"model\":\""u8, .. Encoding.UTF8.GetBytes(System), .. "\",\"input\":\"a"u8, 0xC3, 0x28, 0xFF, .. "\",\"messages\":[{\"role\":\"user\",\"content\":\"b"u8, 0xED, 0xA0, 0x80, .. "\"}]}"u8];
        var huge = Encoding.UTF8.GetBytes("{\"model\":\"" + System + "\",\"input\":\"" + new string('a', 50 * 1024 * 1024) + "\"}");
        foreach (var path in (string[])["/v1/chat/completions", "/v1/embeddings"])
        {
            using (var response = await PostAsync(h.Member, path, invalid)) await AssertOpenAiClientErrorAsync(response, path + " invalid UTF-8");
            try
            {
                using var response = await PostAsync(h.Member, path, huge);
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
                await AssertOpenAiClientErrorAsync(response, path + " 50 MB");
            }
            catch (HttpRequestException e) when (e.InnerException is IOException)
            {
                // Kestrel answers 413 as soon as the announced length is over the limit and closes the
                // connection without reading the rest; the client may see the close before the answer.
            }
        }
        await AssertHealthyAsync(h);
    }

    [Theory]
    [InlineData("/v1/chat/completions", true)]
    [InlineData("/v1/chat/completions", false)]
    [InlineData("/v1/embeddings", false)]
    [InlineData("/api/v1/systems/apply", true)]
    [InlineData("/api/v1/systems/apply", false)]
    [InlineData("/api/v1/users", false)]
    public async Task A_100_MB_body_is_refused_with_413_without_being_read(string path, bool announceLength)
    {
        await using var h = await GatewayHarness.StartAsync();
        var client = path.StartsWith("/v1", StringComparison.Ordinal) ? h.Member : h.Server.Admin;
        var prefix = path.StartsWith("/v1", StringComparison.Ordinal)
            ? "{\"model\":\"" + System + "\",\"input\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\""
            : path.EndsWith("apply", StringComparison.Ordinal) ? "apiVersion: pilotage/v1\nkind: AiSystem\nmetadata:\n  name: \"" : "{\"email\":\"";
        using var content = new GeneratedContent(Encoding.UTF8.GetBytes(prefix), 100L * 1024 * 1024, announceLength);
        content.Headers.ContentType = new MediaTypeHeaderValue(path.EndsWith("apply", StringComparison.Ordinal) ? "application/yaml" : "application/json");
        HttpResponseMessage response;
        try
        {
            response = await client.PostAsync(path, content);
        }
        catch (HttpRequestException e)
        {
            // The server may close the connection while the client is still sending; what matters is that it
            // did not read 100 MB (checked below) and is still serving.
            Assert.True(content.Sent < 100L * 1024 * 1024, $"the whole body was sent before the server answered: {e.Message}");
            await AssertHealthyAsync(h);
            return;
        }
        using (response)
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Contains("large", text, StringComparison.OrdinalIgnoreCase);
        }
        await AssertHealthyAsync(h);
    }

    public static TheoryData<string, string, string> ApiBodies => new()
    {
        { "/api/v1/users", "application/json", "{\"email\":" },
        { "/api/v1/users", "application/json", "{\"email\":5,\"role\":[]}" },
        { "/api/v1/users", "application/json", "{\"email\":\"a@example.org\",\"role\":\"member\",\"groups\":\"x\"}" },
        { "/api/v1/users", "application/json", "{\"email\":\"a@example.org\",\"email\":\"b@example.org\",\"role\":\"overlord\"}" },
        { "/api/v1/users", "application/json", "{\"email\":" + new string('[', 10_000) + "}" },
        { "/api/v1/users", "application/json", "{\"email\":\"\\ud800@example.org\",\"role\":\"member\"}" },
        { "/api/v1/users", "application/json", "null" },
        { "/api/v1/systems/apply", "application/json", "{\"documents\":[{\"source\":5,\"yaml\":[]}]}" },
        { "/api/v1/systems/apply", "application/json", "{\"documents\":" + new string('[', 10_000) + "}" },
        { "/api/v1/systems/apply", "application/json", "{\"documents\":null}" },
        { "/api/v1/systems/apply", "application/yaml", new string('[', 10_000) },
        { "/api/v1/systems/apply", "application/yaml", "a: &a [x]\nb: [*a, *a]\n" },
        { "/api/v1/systems/apply", "application/yaml", "" },
    };

    [Theory]
    [MemberData(nameof(ApiBodies))]
    public async Task A_malformed_control_request_is_a_4xx_problem(string path, string contentType, string body)
    {
        await using var h = await GatewayHarness.StartAsync(startPilot: false);
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await h.Server.Admin.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{path} {body[..Math.Min(60, body.Length)]}: {(int)response.StatusCode} {text}");
        using var problem = JsonDocument.Parse(text);
        Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()), text);
        await AssertHealthyAsync(h);
    }

    /// <summary>Seeded mutations of a valid request: nothing they produce may be answered with a 500. Read-only mode
    /// also reads and rewrites the request's tools.</summary>
    [Theory]
    [InlineData("draft")]
    [InlineData("read_only")]
    public async Task Mutated_gateway_requests_never_get_a_500(string mode)
    {
        await using var h = await GatewayHarness.StartAsync(mode, extra: mode == "read_only" ? "  tools:\n    sideEffecting: [send_email]" : "");
        var seeds = new[]
        {
            Encoding.UTF8.GetBytes(JsonSerializer.Serialize(GatewayHarness.ChatBody("Where is my parcel 4471?"))),
            Encoding.UTF8.GetBytes(JsonSerializer.Serialize(GatewayHarness.ChatBody("Stream it", stream: true))),
            Encoding.UTF8.GetBytes("{\"model\":\"" + System + "\",\"messages\":[{\"role\":\"system\",\"content\":\"x\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"card 4111 1111 1111 1111\"}]}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"send_email\"}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"send_email\"}},\"stream_options\":{\"include_usage\":true}}"),
            Encoding.UTF8.GetBytes("{\"model\":\"" + System + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"functions\":[{\"name\":\"send_email\"},{\"name\":\"lookup\"}],\"function_call\":{\"name\":\"send_email\"}}"),
        };
        var embeddings = Encoding.UTF8.GetBytes("{\"model\":\"" + System + "\",\"input\":[\"a\",\"b\"]}");
        await Mutations.Of([.. seeds, embeddings]).SampleAsync(async bytes =>
        {
            var path = bytes.AsSpan().IndexOf("\"input\""u8) >= 0 ? "/v1/embeddings" : "/v1/chat/completions";
            try
            {
                using var response = await PostAsync(h.Member, path, bytes);
                var text = await response.Content.ReadAsStringAsync();
                Assert.True((int)response.StatusCode < 500, $"{path}: {(int)response.StatusCode} {text}");
            }
            catch (HttpRequestException) when (bytes.Length > Pilotage.Server.Hosting.PilotageApp.MaxRequestBodyBytes)
            {
                // Over the size limit Kestrel answers 413 and closes without reading on; the client may see only the close.
            }
        }, iter: Mutations.Scaled(150), threads: 1);
        await AssertHealthyAsync(h);
    }

    [Fact]
    public async Task Mutated_specs_applied_over_http_never_get_a_500()
    {
        await using var h = await GatewayHarness.StartAsync(startPilot: false);
        var seed = Encoding.UTF8.GetBytes(GatewayHarness.Spec("fuzzed-system", h.Upstream.BaseUrl, "draft", "  limits:\n    requestsPerMinutePerKey: 3"));
        await Mutations.Of(seed).SampleAsync(async bytes =>
        {
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/yaml");
            try
            {
                using var response = await h.Server.Admin.PostAsync("/api/v1/systems/diff", content);
                var text = await response.Content.ReadAsStringAsync();
                Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode} {text}");
            }
            catch (HttpRequestException) when (bytes.Length > Pilotage.Server.Systems.SystemCatalog.MaxRequestBytes)
            {
                // Refused on its announced length (413) before being read; the client may see only the close.
            }
        }, iter: Mutations.Scaled(100), threads: 1);
        await AssertHealthyAsync(h);
    }

    internal static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await client.PostAsync(path, content);
    }

    internal static async Task AssertOpenAiClientErrorAsync(HttpResponseMessage response, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{what}: {(int)response.StatusCode} {text}");
        using var error = JsonDocument.Parse(text);
        var message = error.RootElement.GetProperty("error").GetProperty("message").GetString();
        Assert.False(string.IsNullOrWhiteSpace(message), $"{what}: no message in {text}");
    }

    internal static async Task AssertHealthyAsync(GatewayHarness h)
    {
        using var health = await h.Server.Anonymous.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var answer = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("still there?"));
        // 200 served, 202 held (approval mode), 423 refused by the system's state: each an answer of a healthy server.
        Assert.True(answer.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted or HttpStatusCode.Locked, $"after the hostile requests: {(int)answer.StatusCode}");
    }

    /// <summary>A body produced as it is sent: <paramref name="total"/> bytes without holding them, so a test can send 100 MB.</summary>
    private sealed class GeneratedContent(byte[] prefix, long total, bool announceLength) : HttpContent
    {
        public long Sent { get; private set; }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(prefix);
            Sent = prefix.Length;
            var block = new byte[64 * 1024];
            Array.Fill(block, (byte)'a');
            while (Sent < total)
            {
                var n = (int)Math.Min(block.Length, total - Sent);
                await stream.WriteAsync(block.AsMemory(0, n));
                Sent += n;
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = total;
            return announceLength;
        }
    }
}
