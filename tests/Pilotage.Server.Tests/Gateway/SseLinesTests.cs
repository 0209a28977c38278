using System.Text;
using Pilotage.Server.Gateway;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>The relay's line reader: lines split anywhere across reads, every line end SSE allows, and its bounds.</summary>
public sealed class SseLinesTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task Lines_come_whole_however_the_bytes_are_cut(int piece)
    {
        const string text = "\uFEFFevent: a\r\ndata: {\"usage\":{\"prompt_tokens\":7}}\r\n\r\ndata: é😀\rdata: x\n\ndata: [DONE]";
        var lines = await ReadAllAsync(Encoding.UTF8.GetBytes(text), piece);
        Assert.Equal(["event: a", "data: {\"usage\":{\"prompt_tokens\":7}}", "", "data: é😀", "data: x", "", "data: [DONE]"], lines);
    }

    [Fact]
    public async Task A_line_longer_than_the_first_buffer_grows_it_and_comes_whole()
    {
        var longLine = "data: " + new string('x', 100_000);
        var lines = await ReadAllAsync(Encoding.UTF8.GetBytes(longLine + "\n" + "data: after\n"), 3000);
        Assert.Equal([longLine, "data: after"], lines);
    }

    [Fact]
    public async Task A_stream_larger_than_its_cap_fails_with_the_cap_named()
    {
        var budget = new BufferBudget(new GatewayOptions { MaxBufferedBytes = 64L * 1024 * 1024 });
        using var admission = new GatewayAdmission();
        using var lines = new SseLines(new Pieces(Encoding.UTF8.GetBytes("data: " + new string('x', 3 * 1024 * 1024)), 64 * 1024), 2 * 1024 * 1024, "the streamed answer", budget, admission);
        var e = await Assert.ThrowsAsync<InvalidDataException>(async () => await lines.ReadLineAsync(CancellationToken.None));
        Assert.Equal("the streamed answer is larger than 2 MB", e.Message);
    }

    /// <summary>A line without an end counts against the server-wide budget once past 64 KB: many at once are refused, not held.</summary>
    [Fact]
    public async Task A_line_that_never_ends_is_refused_when_the_budget_is_spent()
    {
        var budget = new BufferBudget(new GatewayOptions { MaxBufferedBytes = 1024 * 1024 });
        using var admission = new GatewayAdmission();
        using var lines = new SseLines(new Pieces(Encoding.UTF8.GetBytes("data: " + new string('x', 8 * 1024 * 1024)), 64 * 1024), 32 * 1024 * 1024, "the streamed answer", budget, admission);
        var e = await Assert.ThrowsAsync<BufferExhaustedException>(async () => await lines.ReadLineAsync(CancellationToken.None));
        Assert.Equal(("server_busy", 503), (e.Refusal.Code, e.Refusal.Status));
        Assert.Contains("without an end", e.Message, StringComparison.Ordinal);
        Assert.InRange(budget.InUse, 1, budget.Limit);
        admission.Dispose();
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public async Task Lines_within_the_first_64_KB_reserve_nothing()
    {
        var budget = new BufferBudget(new GatewayOptions { MaxBufferedBytes = 1024 });
        using var admission = new GatewayAdmission();
        using var lines = new SseLines(new Pieces(Encoding.UTF8.GetBytes("data: " + new string('x', 60_000) + "\n"), 1000), 32 * 1024 * 1024, "the streamed answer", budget, admission);
        Assert.True(await lines.ReadLineAsync(CancellationToken.None));
        Assert.Equal(60_006, lines.Line.Length);
        Assert.False(await lines.ReadLineAsync(CancellationToken.None));
        Assert.Equal(0, budget.InUse);
    }

    private static async Task<List<string>> ReadAllAsync(byte[] bytes, int piece)
    {
        var budget = new BufferBudget(new GatewayOptions());
        using var admission = new GatewayAdmission();
        using var lines = new SseLines(new Pieces(bytes, piece), 32 * 1024 * 1024, "the streamed answer", budget, admission);
        var read = new List<string>();
        while (await lines.ReadLineAsync(CancellationToken.None)) read.Add(Encoding.UTF8.GetString(lines.Line.Span));
        return read;
    }

    /// <summary>A stream that gives at most <c>piece</c> bytes a read, and answers a zero-byte read as a network stream does.</summary>
    private sealed class Pieces(byte[] bytes, int piece) : Stream
    {
        private int _at;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => bytes.Length;
        public override long Position { get => _at; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(Math.Min(piece, buffer.Length), bytes.Length - _at);
            bytes.AsSpan(_at, n).CopyTo(buffer);
            _at += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush() => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
