using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// A redacted text as a JSON node over its own UTF-8, which is what the walk puts in place of a value that had a hit:
/// about half the bytes of a string and its node (1.4 against 2.4 KB for a 1,200-character message), and read as a
/// string like any other value (<c>GetValue&lt;string&gt;</c>). The serializer escapes it again as it writes it out.
/// </summary>
internal static class RedactedValue
{
    /// <summary>The bytes JSON must escape inside a string: the quote, the backslash and the control characters.</summary>
    private static readonly SearchValues<byte> MustEscape = SearchValues.Create([.. Enumerable.Range(0, 0x20).Select(b => (byte)b), (byte)'"', (byte)'\\']);

    public static JsonValue Of(ReadOnlySpan<char> text)
    {
        var utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        byte[]? json = null;
        try
        {
            var source = utf8.AsSpan(0, Encoding.UTF8.GetBytes(text, utf8));
            // The quotes, and at most six bytes (\u00XX) for each byte that must be escaped.
            json = ArrayPool<byte>.Shared.Rent(source.Length + 2 + (5 * Escapes(source)));
            var length = 0;
            json[length++] = (byte)'"';
            while (!source.IsEmpty)
            {
                var plain = source.IndexOfAny(MustEscape);
                var run = plain < 0 ? source : source[..plain];
                run.CopyTo(json.AsSpan(length));
                length += run.Length;
                if (plain < 0)
                {
                    break;
                }
                length += Escape(source[plain], json.AsSpan(length));
                source = source[(plain + 1)..];
            }
            json[length++] = (byte)'"';
            return JsonValue.Create(JsonElement.Parse(json.AsSpan(0, length)))!;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
            if (json is not null)
            {
                ArrayPool<byte>.Shared.Return(json);
            }
        }
    }

    private static int Escapes(ReadOnlySpan<byte> source)
    {
        var count = 0;
        for (var at = source.IndexOfAny(MustEscape); at >= 0; at = source.IndexOfAny(MustEscape))
        {
            count++;
            source = source[(at + 1)..];
        }
        return count;
    }

    private static int Escape(byte b, Span<byte> into)
    {
        if (b is (byte)'"' or (byte)'\\')
        {
            into[0] = (byte)'\\';
            into[1] = b;
            return 2;
        }
        "\\u00"u8.CopyTo(into);
        into[4] = (byte)"0123456789abcdef"[b >> 4];
        into[5] = (byte)"0123456789abcdef"[b & 0xF];
        return 6;
    }
}
