using System.Buffers;
using Pilotage.Server.Gateway;

namespace Pilotage.Server.Tests.Gateway;

public sealed class PooledBytesTests
{
    [Fact]
    public void What_is_written_comes_out_as_an_array_written_by_the_platform_holds_it_whatever_it_grows_through()
    {
        var random = new Random(27);
        for (var n = 0; n < 300; n++)
        {
            using var pooled = new PooledBytes(random.Next(0, 64));
            var plain = new ArrayBufferWriter<byte>();
            for (var i = random.Next(0, 40); i > 0; i--)
            {
                var hint = random.Next(0, 600);
                var span = random.Next(2) == 0 ? pooled.GetSpan(hint) : pooled.GetMemory(hint).Span;
                Assert.True(span.Length >= Math.Max(hint, 1));
                var count = random.Next(0, hint + 1);
                random.NextBytes(span[..count]);
                span[..count].CopyTo(plain.GetSpan(count));
                pooled.Advance(count);
                plain.Advance(count);
            }
            Assert.Equal(plain.WrittenSpan.ToArray(), pooled.ToArray());
        }
    }

    [Fact]
    public void Advancing_past_what_was_asked_for_is_refused()
    {
        using var pooled = new PooledBytes(16);
        var length = pooled.GetSpan(16).Length;
        Assert.Throws<ArgumentOutOfRangeException>(() => pooled.Advance(length + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => pooled.Advance(-1));
    }
}
