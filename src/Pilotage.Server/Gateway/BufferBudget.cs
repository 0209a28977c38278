using System.Buffers;
using System.Globalization;
using Pilotage.Core.Gateway;
using Pilotage.Server.Api;

namespace Pilotage.Server.Gateway;

/// <summary>
/// A server-wide bound on the bytes the gateway holds in memory for requests and answers at once
/// (<c>PILOTAGE_MAX_BUFFERED_MB</c>, docs/security.md). Each request reserves its body's bytes before
/// reading them (all of a declared Content-Length at once, a chunked body as it arrives) and a
/// non-streamed answer as it is read; when the budget is spent the request is refused with 503 and
/// Retry-After instead of the server growing without limit. A reservation lasts until the request is over,
/// since the parsed body and the answer live that long.
/// </summary>
public sealed class BufferBudget(GatewayOptions options)
{
    /// <summary>
    /// Each buffered byte is counted this many times: a body is held as read, as a parsed document, as the text
    /// the data boundary reads (UTF-16, two bytes a character) and as the bytes sent upstream; an answer as read,
    /// as an array and as text. Counting them makes the budget close to the heap it protects (docs/security.md).
    /// </summary>
    public const int CostPerByte = 4;

    /// <summary>The first step a buffer that outgrows its reservation reserves: the 16 KB it is read in at least.</summary>
    public const long FirstStep = 16 * 1024;

    /// <summary>The largest step a request body's reservation grows by.</summary>
    private const long LargestBodyStep = 64 * 1024;

    private long _used;

    public long Limit { get; } = Math.Max(1, options.MaxBufferedBytes);

    /// <summary>Bytes reserved now (tests check it returns to zero).</summary>
    public long InUse => Interlocked.Read(ref _used);

    /// <summary>Reserves <paramref name="bytes"/> more for the admission; false when the budget would be exceeded.</summary>
    public bool TryReserve(GatewayAdmission admission, long bytes)
    {
        if (bytes <= 0) return true;
        while (true)
        {
            var used = Interlocked.Read(ref _used);
            if (used + bytes > Limit) return false;
            if (Interlocked.CompareExchange(ref _used, used + bytes, used) == used) break;
        }
        admission.Hold(new Reservation(this, bytes));
        return true;
    }

    /// <summary>
    /// How many more bytes a buffer holding <paramref name="held"/> bytes, <paramref name="reserved"/> of them reserved,
    /// reserves: the reservation doubles, from <see cref="FirstStep"/> and by <paramref name="largestStep"/> at most a
    /// step, and always takes at least what is missing. A small buffer reserves little, a large one in few steps (each
    /// step is one more reservation its request holds).
    /// </summary>
    public static long Step(long reserved, long held, long largestStep) =>
        Math.Max(held - reserved, Math.Clamp(reserved, FirstStep, largestStep));

    /// <summary>
    /// Reserves the next <see cref="Step"/> for the admission when <paramref name="held"/> bytes no longer fit in the
    /// <paramref name="reserved"/> ones, and counts it there; false (nothing reserved) when the budget is spent.
    /// </summary>
    public bool TryGrow(GatewayAdmission admission, ref long reserved, long held, long largestStep)
    {
        if (held <= reserved) return true;
        var more = Step(reserved, held, largestStep);
        if (!TryReserve(admission, more * CostPerByte)) return false;
        reserved += more;
        return true;
    }

    public GatewayRefusal Exhausted(string what, bool sentToModel = false) => new(503, "server_busy", string.Create(CultureInfo.InvariantCulture,
        $"the gateway is holding {Limit / 1024 / 1024} MB of requests and answers in memory, its limit (PILOTAGE_MAX_BUFFERED_MB), so {what} could not be taken{(sentToModel ? "" : "; nothing was sent to the model")}. Retry after a moment; if it persists, {ServingPolicy.ManualProcess}."));

    /// <summary>
    /// Reads the request body into memory, reserving its bytes first; null (nothing kept) when the budget is spent.
    /// Kestrel's MaxRequestBodySize still applies: a longer body throws BadHttpRequestException (413).
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpRequest request, GatewayAdmission admission, CancellationToken ct)
    {
        var declared = request.ContentLength is { } length ? Math.Min(length, RequestLimits.MaxBodyBytes) : 0;
        if (!TryReserve(admission, declared * CostPerByte)) return null;
        var reserved = declared;
        // One byte more than declared, so the read that confirms the end needs no larger array.
        var buffer = new ArrayBufferWriter<byte>((int)Math.Clamp(declared + 1, 256, RequestLimits.MaxBodyBytes + 1));
        while (true)
        {
            // A declared length is read into exactly its size (one more read confirms the end); only a chunked
            // body grows in 16 KB steps. Asking for 16 KB every time made every small request allocate 16 KB.
            var memory = buffer.GetMemory(declared > buffer.WrittenCount ? (int)(declared - buffer.WrittenCount) : declared > 0 ? 1 : 16 * 1024);
            var read = await request.Body.ReadAsync(memory, ct);
            if (read == 0) break;
            buffer.Advance(read);
            // A chunked body (or one longer than declared): reserved as it grows, in steps that double from 16 KB (the
            // buffer it is read into) to 64 KB. A first step of 64 KB (256 KB counted) for every small chunked body
            // spent the default budget on a thousand requests of a few hundred bytes.
            if (!TryGrow(admission, ref reserved, buffer.WrittenCount, LargestBodyStep)) return null;
        }
        return buffer.WrittenMemory;
    }

    private sealed class Reservation(BufferBudget budget, long bytes) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) Interlocked.Add(ref budget._used, -bytes);
        }
    }
}
