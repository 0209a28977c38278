using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Pilotage.Server.Gateway;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// The HTTP/2 answer read through its own copy: the relay's lines are the same as read directly, however the bytes
/// are cut; a zero-byte read waits; the copy reads the upstream only when asked; failures, cancellation and an early
/// end are what the response stream's own reads give.
/// </summary>
public sealed class PumpedReadStreamTests
{
    private const string Text = "\uFEFFevent: a\r\ndata: {\"usage\":{\"prompt_tokens\":7}}\r\n\r\ndata: é😀\rdata: x\n\n: c\r\rdata: [DONE]";

    [Fact]
    public async Task Lines_are_the_same_as_read_directly_wherever_the_bytes_are_cut_in_two()
    {
        var bytes = Encoding.UTF8.GetBytes(Text);
        var expected = await LinesAsync(new Pieces(bytes, [bytes.Length]), pumped: false);
        for (var at = 0; at <= bytes.Length; at++)
        {
            Assert.Equal(expected, await LinesAsync(new Pieces(bytes, [at, bytes.Length - at]), pumped: true));
            Assert.Equal(expected, await LinesAsync(new Pieces(bytes, [at, bytes.Length - at], waits: true), pumped: true));
        }
    }

    /// <summary>Random cuts, lines longer than the copy's buffer and than the reader's first buffer, waiting and ready reads.</summary>
    [Fact]
    public async Task Lines_are_the_same_as_read_directly_on_random_streams()
    {
        var random = new Random(27);
        string[] parts = ["\n", "\r", "\r\n", "data: ", "é😀", "x", ": comment", "[DONE]", new('y', 300), new('z', 5000)];
        for (var round = 0; round < 300; round++)
        {
            var text = string.Concat(Enumerable.Range(0, random.Next(0, 40)).Select(_ => parts[random.Next(parts.Length)]));
            var bytes = Encoding.UTF8.GetBytes(text);
            var cuts = new List<int>();
            for (var left = bytes.Length; left > 0;)
            {
                var piece = Math.Min(left, random.Next(0, 3) == 0 ? random.Next(1, 8) : random.Next(1, 2000));
                cuts.Add(piece);
                left -= piece;
            }
            var expected = await LinesAsync(new Pieces(bytes, [bytes.Length]), pumped: false);
            Assert.Equal(expected, await LinesAsync(new Pieces(bytes, cuts, waits: round % 2 == 0), pumped: true));
        }
    }

    [Fact]
    public async Task A_zero_byte_read_waits_until_data_is_there()
    {
        var pipe = new Pipe();
        await using var stream = new PumpedReadStream(pipe.Reader.AsStream(), CancellationToken.None);
        var waiting = stream.ReadAsync(Memory<byte>.Empty);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        await pipe.Writer.WriteAsync("data: one\n\n"u8.ToArray());
        Assert.Equal(0, await waiting);
        Assert.Equal("data: one\n\n", await ReadToEndAsync(stream, until: 11));
        await pipe.Writer.CompleteAsync();
        Assert.Equal(0, await stream.ReadAsync(new byte[10]));
        Assert.Equal(0, await stream.ReadAsync(new byte[10]));
    }

    /// <summary>The upstream is read no faster than the reader reads: a slow client holds the model back, as before.</summary>
    [Fact]
    public async Task The_copy_reads_the_upstream_only_once_the_reader_has_taken_everything_and_asks_for_more()
    {
        var upstream = new Pieces(Encoding.UTF8.GetBytes("data: one\n\ndata: two\n\n"), [11, 11], waits: true);
        await using var stream = new PumpedReadStream(upstream, CancellationToken.None);
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.Equal("data", await ReadToEndAsync(stream, until: 4));
        await Task.Delay(50);
        Assert.Equal(1, upstream.Reads);
        Assert.Equal(": one\n\n", await ReadToEndAsync(stream, until: 7));
        Assert.Equal(1, upstream.Reads);
        Assert.Equal("data: two\n\n", await ReadToEndAsync(stream, until: 11));
        Assert.Equal(2, upstream.Reads);
        Assert.Equal(0, await stream.ReadAsync(new byte[10]));
    }

    [Fact]
    public async Task A_failure_upstream_comes_after_the_bytes_before_it_and_is_the_same_exception()
    {
        var failure = new IOException("the connection was reset");
        await using var stream = new PumpedReadStream(new Pieces("data: one\n"u8.ToArray(), [4, 6], waits: true, failure), CancellationToken.None);
        Assert.Equal("data: one\n", await ReadToEndAsync(stream, until: 10));
        Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => stream.ReadAsync(new byte[10]).AsTask()));
    }

    [Fact]
    public async Task A_wait_ends_when_the_token_is_cancelled()
    {
        var pipe = new Pipe();
        using var cancel = new CancellationTokenSource();
        await using var stream = new PumpedReadStream(pipe.Reader.AsStream(), cancel.Token);
        var waiting = stream.ReadAsync(Memory<byte>.Empty);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
    }

    [Fact]
    public async Task Disposed_once_the_reader_stops_it_disposes_the_upstream_and_reads_no_more()
    {
        var upstream = new Pieces(Encoding.UTF8.GetBytes("data: one\n\ndata: two\n\n"), [11, 11], waits: true);
        var stream = new PumpedReadStream(upstream, CancellationToken.None);
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.Equal(1, upstream.Reads);
        await stream.DisposeAsync();
        Assert.True(upstream.Disposed);
        await Task.Delay(50);
        Assert.Equal(1, upstream.Reads);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => stream.ReadAsync(new byte[1]).AsTask());
    }

    /// <summary>Through SocketsHttpHandler's own HTTP/2 response stream, whose copy this stream relies on.</summary>
    [Fact]
    public async Task Over_http2_the_lines_failures_and_an_early_end_are_those_of_the_response_streams_own_reads()
    {
        await using var model = await Http2Model.StartAsync();
        using var client = new HttpMessageInvoker(new SocketsHttpHandler());

        foreach (var pumped in new[] { false, true })
        {
            using var response = await model.SendAsync(client, "/answer");
            Assert.Equal(HttpVersion.Version20, response.Version);
            Assert.Equal(["data: one", "", "data: two", "", "data: [DONE]", ""], await LinesAsync(await response.Content.ReadAsStreamAsync(), pumped));
        }

        var failures = new List<Type>();
        foreach (var pumped in new[] { false, true })
        {
            using var response = await model.SendAsync(client, "/reset");
            var e = await Assert.ThrowsAnyAsync<Exception>(async () => await LinesAsync(await response.Content.ReadAsStreamAsync(), pumped));
            failures.Add(e.GetType());
            Assert.IsAssignableFrom<IOException>(e);
        }
        Assert.Equal(failures[0], failures[1]);

        foreach (var pumped in new[] { false, true })
        {
            using var response = await model.SendAsync(client, "/slow");
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await LinesAsync(await response.Content.ReadAsStreamAsync(), pumped, cancel.Token));
        }

        // The reader stops after the first line (as the relay does at [DONE] or a refusal): the model's call is reset.
        using (var response = await model.SendAsync(client, "/held"))
        {
            await using var stream = new PumpedReadStream(await response.Content.ReadAsStreamAsync(), CancellationToken.None);
            using var lines = NewLines(stream);
            Assert.True(await lines.ReadLineAsync(CancellationToken.None));
            Assert.Equal("data: one", Encoding.UTF8.GetString(lines.Line.Span));
        }
        Assert.True(await model.Aborted.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private static SseLines NewLines(Stream stream) =>
        new(stream, 32 * 1024 * 1024, "the streamed answer", new BufferBudget(new GatewayOptions()), new GatewayAdmission());

    private static async Task<List<string>> LinesAsync(Stream upstream, bool pumped, CancellationToken ct = default)
    {
        await using var stream = pumped ? new PumpedReadStream(upstream, ct) : upstream;
        using var lines = NewLines(stream);
        var read = new List<string>();
        while (await lines.ReadLineAsync(ct)) read.Add(Encoding.UTF8.GetString(lines.Line.Span));
        return read;
    }

    private static async Task<string> ReadToEndAsync(Stream stream, int until)
    {
        var bytes = new byte[until];
        for (var at = 0; at < until;)
        {
            var read = await stream.ReadAsync(bytes.AsMemory(at));
            Assert.NotEqual(0, read);
            at += read;
        }
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>An upstream that gives its bytes in the pieces given, each read waiting first or not, then ends or fails.</summary>
    private sealed class Pieces(byte[] bytes, IReadOnlyList<int> cuts, bool waits = false, Exception? failure = null) : Stream
    {
        private int _at;
        private int _piece;
        private int _leftInPiece = cuts.Count > 0 ? cuts[0] : 0;

        public int Reads { get; private set; }
        public bool Disposed { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Reads++;
            if (waits) await Task.Yield();
            while (_leftInPiece == 0 && _piece < cuts.Count - 1) _leftInPiece = cuts[++_piece];
            if (_at == bytes.Length && failure is not null) throw failure;
            var n = Math.Min(Math.Min(buffer.Length, _leftInPiece), bytes.Length - _at);
            bytes.AsSpan(_at, n).CopyTo(buffer.Span);
            _at += n;
            _leftInPiece -= n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush() => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }

    /// <summary>A model that speaks HTTP/2 without TLS (prior knowledge): an answer, one reset midway, two that never end.</summary>
    private sealed class Http2Model(WebApplication app) : IAsyncDisposable
    {
        public TaskCompletionSource<bool> Aborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static async Task<Http2Model> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [Pilotage.Server.Hosting.PilotageApp.NoConfigReload] });
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            var app = builder.Build();
            var model = new Http2Model(app);
            app.MapGet("/answer", async (HttpContext http) =>
            {
                foreach (var piece in new[] { "data: o", "ne\n\ndata: two\n", "\ndata: [DONE]\n\n" }) await WriteAsync(http, piece, 20);
            });
            app.MapGet("/reset", async (HttpContext http) =>
            {
                await WriteAsync(http, "data: one\n\n", 20);
                http.Abort();
            });
            app.MapGet("/slow", async (HttpContext http) =>
            {
                await WriteAsync(http, "data: one\n\ndata: t", 0);
                await Task.Delay(Timeout.Infinite, http.RequestAborted);
            });
            app.MapGet("/held", async (HttpContext http) =>
            {
                http.RequestAborted.Register(() => model.Aborted.TrySetResult(true));
                await WriteAsync(http, "data: one\n\ndata: t", 0);
                await Task.Delay(Timeout.Infinite, http.RequestAborted);
            });
            await app.StartAsync();
            return model;
        }

        public Task<HttpResponseMessage> SendAsync(HttpMessageInvoker client, string path) =>
            client.SendAsync(new HttpRequestMessage(HttpMethod.Get, app.Urls.First() + path) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact }, CancellationToken.None);

        private static async Task WriteAsync(HttpContext http, string piece, int delayMs)
        {
            if (delayMs > 0) await Task.Delay(delayMs, http.RequestAborted);
            await http.Response.WriteAsync(piece, http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
