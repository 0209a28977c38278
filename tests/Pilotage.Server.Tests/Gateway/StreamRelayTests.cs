using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Gateway;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// The streamed relay through the real gateway, with the upstream's bytes cut where a network cuts them: events
/// split across reads are still read whole (text, token counts), chunks reach the client byte for byte, and a
/// client that leaves mid-stream releases the upstream call and the gateway's places.
/// </summary>
public sealed class StreamRelayTests
{
    [Fact]
    public async Task Events_split_across_reads_are_read_whole_and_the_usage_chunk_is_counted()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        const string First = """{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Caf\u00e9 \"déjà\"\nvu"}}]}""";
        const string Usage = """{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":17,"completion_tokens":23,"total_tokens":40}}""";
        h.Upstream.RawStreamPieces =
        [
            "data: " + First[..37], First[37..70], First[70..] + "\r", "\n\r\n",
            ": a comment\n\ndata: ", Usage[..60], Usage[60..] + "\n", "\ndata: [DO", "NE]\n\n",
        ];
        using var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = GatewayHarness.System, stream = true, stream_options = new { include_usage = true },
            messages = new object[] { new { role = "user", content = "Hi" } },
        });
        var body = await response.Content.ReadAsStringAsync();
        // Each chunk goes out as the upstream wrote it, byte for byte, re-framed as one event.
        Assert.Equal($"data: {First}\n\ndata: {Usage}\n\ndata: [DONE]\n\n", body);
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("served", 17, 23), (record.Outcome, record.TokensIn, record.TokensOut));
        Assert.Equal("Café \"déjà\"\nvu", record.ResponseContent);
    }

    [Fact]
    public async Task A_usage_chunk_the_client_did_not_ask_for_is_counted_and_not_sent()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        h.Upstream.RawStreamPieces =
        [
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_",
            "tokens\":5,\"completion_tokens\":6}}\n\ndata: [DONE]\n\n",
        ];
        using var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Hi", stream: true));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("data: {\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}\n\ndata: [DONE]\n\n", body);
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("served", 5, 6, "Hello"), (record.Outcome, record.TokensIn, record.TokensOut, record.ResponseContent));
    }

    [Fact]
    public async Task A_chunk_the_scanner_declines_is_read_as_before_and_a_malformed_one_still_ends_the_stream()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        // Half a surrogate pair is kept as written (the tree's reading); a key given twice is unreadable (502).
        h.Upstream.RawStreamPieces =
        [
            "data: {\"choices\":[{\"delta\":{\"content\":\"refund \\ud800\"}}]}\n\n",
            "data: {\"choices\":[],\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n",
        ];
        using var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Hi", stream: true));
        var body = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("data: {\"choices\":[{\"delta\":{\"content\":\"refund \\ud800\"}}]}\n\n", body, StringComparison.Ordinal);
        Assert.Contains("upstream_malformed", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("failed", "upstream_malformed"), (record.Outcome, record.RefusalCode));
        Assert.Equal("refund \\ud800", record.ResponseContent);
    }

    [Fact]
    public async Task A_client_that_leaves_mid_stream_releases_the_upstream_call_and_the_gateways_places()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        h.Upstream.StreamPieceDelay = TimeSpan.FromMilliseconds(500);
        h.Upstream.RawStreamPieces = [.. Enumerable.Range(0, 60).Select(i => $"data: {{\"choices\":[{{\"delta\":{{\"content\":\"word {i} \"}}}}]}}\n\n"), "data: [DONE]\n\n"];
        var limits = h.Server.App.Services.GetRequiredService<UpstreamLimits>();
        string id;
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(GatewayHarness.ChatBody("Tell me a long story", stream: true)) })
        {
            using var response = await h.Member.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            id = response.Headers.GetValues("x-pilotage-interaction-id").Single();
            await using var stream = await response.Content.ReadAsStreamAsync();
            using var reader = new StreamReader(stream);
            Assert.Equal("data: {\"choices\":[{\"delta\":{\"content\":\"word 0 \"}}]}", await reader.ReadLineAsync());
            Assert.Equal(1, h.Upstream.InFlight);
        }
        // The answer would take 30 s more: the gateway must let go of the model as soon as the client is gone.
        for (var wait = 0; wait < 100 && (h.Upstream.InFlight > 0 || limits.InFlight > 0); wait++) await Task.Delay(100);
        Assert.Equal(0, h.Upstream.InFlight);
        Assert.Equal(0, limits.InFlight);
        var record = await h.InteractionAsync(id);
        Assert.Equal(("failed", "the client disconnected during the stream"), (record.Outcome, record.Error));
        Assert.StartsWith("word 0 ", record.ResponseContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stream_past_its_total_time_out_is_cut_recorded_and_the_upstream_released()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        await h.Server.ApplyAsync(GatewayHarness.Spec(GatewayHarness.System, h.Upstream.BaseUrl, "full", "").Replace("model: fake-model", "model: fake-model\n    timeoutSeconds: 1", StringComparison.Ordinal));
        h.Upstream.StreamPieceDelay = TimeSpan.FromMilliseconds(300);
        h.Upstream.RawStreamPieces = [.. Enumerable.Range(0, 60).Select(i => $"data: {{\"choices\":[{{\"delta\":{{\"content\":\"word {i} \"}}}}]}}\n\n"), "data: [DONE]\n\n"];
        using var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Tell me a long story", stream: true));
        var body = await response.Content.ReadAsStringAsync();
        // The first words went out; then the time-out ended the stream with an error event, never [DONE].
        Assert.StartsWith("data: {\"choices\":[{\"delta\":{\"content\":\"word 0 \"}}]}\n\n", body, StringComparison.Ordinal);
        Assert.Contains("upstream_timeout", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("failed", "upstream_timeout"), (record.Outcome, record.RefusalCode));
        Assert.StartsWith("word 0 ", record.ResponseContent, StringComparison.Ordinal);
        for (var wait = 0; wait < 100 && h.Upstream.InFlight > 0; wait++) await Task.Delay(100);
        Assert.Equal(0, h.Upstream.InFlight);
    }

    [Fact]
    public async Task A_streamed_answers_record_hashes_exactly_what_was_sent_and_answered_and_the_body_goes_as_json()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        h.Upstream.RawStreamPieces =
        [
            "data: {\"choices\":[{\"delta\":{\"content\":\"Caf\u00e9 \ud83d\ude00 \"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"déjà vu\"}}]}\n\ndata: [DONE]\n\n",
        ];
        using var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Grüße", stream: true));
        await response.Content.ReadAsStringAsync();
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal("Café 😀 déjà vu", record.ResponseContent);
        Assert.Equal(Sha256(record.ResponseContent!), record.ResponseHash);
        Assert.Equal(Sha256(record.RequestContent!), record.RequestHash);
        Assert.Equal("application/json", h.Upstream.ContentTypes.Last());
    }

    private static string Sha256(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
}
