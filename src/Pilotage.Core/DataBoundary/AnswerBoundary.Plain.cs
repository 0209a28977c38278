using System.Numerics;
using System.Runtime.Intrinsics;

namespace Pilotage.Core.DataBoundary;

// The answer boundary's reading of an answer in plain ASCII with no backslash, straight from its bytes.
public sealed partial class AnswerBoundary
{
    /// <summary>
    /// <see cref="ReadsClean(ReadOnlySpan{byte}, BoundaryBudget?)"/> for an answer in plain ASCII with no backslash (nearly
    /// every answer in English): there every string is its own text between two quotes, so the strings are found by their
    /// quotes alone, with no tokeniser (which cost half the filter), and a property name is the string a ':' follows.
    /// Bytes that are not JSON may read clean here where the tokeniser would refuse them: the walk cannot parse them
    /// either, and sends them as they are with nothing found, which is what a clean reading does too.
    /// </summary>
    private bool PlainReadsClean(ReadOnlySpan<byte> answer, BoundaryBudget? budget)
    {
        var at = SkipSpace(answer, 0);
        if (at == answer.Length || answer[at] != (byte)'{')
        {
            return false;
        }
        // Where the quotes are, and the digits and '@'s (what every built-in detector but the secrets needs), as bits found
        // 16 bytes at a time: each string is then found and judged with a few operations on words, where searching for
        // each string's quotes and characters byte by byte (or with a call per search) cost more than the rest of the reading.
        var words = (answer.Length + 63) / 64;
        ulong[]? pooled = null;
        var bits = words <= StackWords ? stackalloc ulong[2 * words] : (pooled = System.Buffers.ArrayPool<ulong>.Shared.Rent(2 * words)).AsSpan(0, 2 * words);
        var quotes = bits[..words];
        var needed = bits[words..];
        Mark(answer, quotes, needed);
        try
        {
            return Walk(answer, quotes, needed, at + 1, budget);
        }
        catch (BoundaryBudgetExceededException)
        {
            return false;
        }
        finally
        {
            if (pooled is not null)
            {
                System.Buffers.ArrayPool<ulong>.Shared.Return(pooled);
            }
        }
    }

    /// <summary>
    /// The reading of <see cref="PlainReadsClean"/> from <paramref name="at"/> (after the opening brace), its strings found
    /// in <paramref name="quotes"/>. A method of its own, with no stack buffer and no handler, so that what it keeps from
    /// string to string stays in registers. Every quote opens or closes a string (there is no backslash), and what is
    /// skipped between one string and the next (spaces, a ':') holds none: the quotes are taken one after the other.
    /// </summary>
    private bool Walk(ReadOnlySpan<byte> answer, ReadOnlySpan<ulong> quotes, ReadOnlySpan<ulong> needed, int at, BoundaryBudget? budget)
    {
        var custom = Policy.HasCustomDetectors;
        // The quotes not taken yet: those of word w still in rest.
        var w = 0;
        var rest = quotes[0];
        // The name whose value the string about to be read is, when it comes straight after its ':' (only then does it
        // matter whether the name is structural, which is asked only of a value that is not clean by itself).
        var named = default(ReadOnlySpan<byte>);
        var hasName = false;
        while (at < answer.Length)
        {
            while (rest == 0)
            {
                if (++w == quotes.Length)
                {
                    return true;
                }
                rest = quotes[w];
            }
            var open = (w << 6) + BitOperations.TrailingZeroCount(rest);
            rest &= rest - 1;
            while (rest == 0)
            {
                if (++w == quotes.Length)
                {
                    return false; // not JSON: the walk says so
                }
                rest = quotes[w];
            }
            var close = (w << 6) + BitOperations.TrailingZeroCount(rest);
            rest &= rest - 1;
            var content = answer[(open + 1)..close];
            // What DataBoundaryPolicy.NothingToFind says of these bytes, read from the bits.
            var clean = !custom && content.Length < SecretDetector.MinLength && !AnyBit(needed, open + 1, close);
            at = SkipSpace(answer, close + 1);
            if (at < answer.Length && answer[at] == (byte)':')
            {
                if (content.Length is 5 or 6 && (content.SequenceEqual("input"u8) || content.SequenceEqual("prompt"u8)) && DepthAt(answer, open) == 1)
                {
                    return false; // RequestScrubber.TokenInputs: the walk checks them for token ids
                }
                at = SkipSpace(answer, at + 1);
                hasName = at < answer.Length && answer[at] == (byte)'"' && content.Length <= MaxStructuralKey;
                named = content;
                if (!clean && (content.Length >= RequestScrubber.ShortestBuiltInMatch || custom) && Holds(content, budget))
                {
                    return false; // an ASCII name shorter than any match holds no hit (RequestScrubber.MayHoldHit)
                }
                continue;
            }
            if (!clean && !(hasName && content.Length <= RequestScrubber.StructuralValueLimit && IsStructural(named))
                && !(!custom && OnlySecretsNeeded(content, needed, open + 1) && !HoldsSecretLiteral(content)) && Holds(content, budget))
            {
                return false;
            }
            hasName = false;
        }
        return true;
    }

    /// <summary>
    /// True when <paramref name="content"/> (at <paramref name="from"/> in the answer) holds no '@' and at most one digit,
    /// read from the bits: every built-in detector but the secrets then finds nothing (each needs an '@', or a run of at
    /// least six digits, or an IBAN's two check digits), and the normalisation folds nothing a secret's literal could
    /// be made of (it folds only runs of separators with a digit on either side, or spaces beside one digit).
    /// </summary>
    private static bool OnlySecretsNeeded(ReadOnlySpan<byte> content, ReadOnlySpan<ulong> needed, int from)
    {
        var first = NextBit(needed, from);
        if (first < 0 || first >= from + content.Length)
        {
            return true;
        }
        if (content[first - from] == (byte)'@')
        {
            return false;
        }
        var second = NextBit(needed, first + 1);
        return second < 0 || second >= from + content.Length;
    }

    /// <summary>
    /// True when the policy looks for secrets and <paramref name="ascii"/> is long enough for one and holds one of their
    /// literals (<see cref="SecretDetector.HoldsLiteral"/>, on its characters widened on the stack): only then is a text
    /// that <see cref="OnlySecretsNeeded"/> read.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private bool HoldsSecretLiteral(ReadOnlySpan<byte> ascii)
    {
        if (!Policy.MayFindSecrets || ascii.Length < SecretDetector.MinLength)
        {
            return false;
        }
        if (!ascii.ContainsAny(SecretDetector.AnchorBytes))
        {
            return false; // every literal holds one of the anchors: prose with none of them is read no further
        }
        if (ascii.Length > WidenedOnStack)
        {
            return true; // a long text: read in full (Holds)
        }
        Span<char> chars = stackalloc char[ascii.Length]; // only as long (and only as cleared) as the text
        System.Text.Ascii.ToUtf16(ascii, chars, out var written);
        return SecretDetector.HoldsLiteral(chars[..written]);
    }

    /// <summary>The longest text <see cref="HoldsSecretLiteral"/> widens on the stack.</summary>
    private const int WidenedOnStack = 512;

    /// <summary>Answers up to 64 times this many bytes have their bits on the stack.</summary>
    private const int StackWords = 32;

    /// <summary>
    /// Bit <c>i % 64</c> of word <c>i / 64</c> set in <paramref name="quotes"/> when byte <c>i</c> is a '"', in
    /// <paramref name="needed"/> when it is a digit or an '@'.
    /// </summary>
    private static void Mark(ReadOnlySpan<byte> json, Span<ulong> quotes, Span<ulong> needed)
    {
        var i = 0;
        var w = 0;
        for (; i + 64 <= json.Length; i += 64, w++)
        {
            (quotes[w], needed[w]) = Block(json.Slice(i, 64));
        }
        if (i < json.Length)
        {
            // The last bytes, padded with spaces (neither a quote nor needed) to a whole block.
            Span<byte> last = stackalloc byte[64];
            last.Fill((byte)' ');
            json[i..].CopyTo(last);
            (quotes[w], needed[w]) = Block(last);
        }
    }

    /// <summary>
    /// The quote bits and the needed bits of one block of 64 bytes: 32 at a time where the machine has 256-bit vectors
    /// (two compares a block, where 16 at a time took four), 16 otherwise.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static (ulong Quotes, ulong Needed) Block(ReadOnlySpan<byte> block)
    {
        ulong q = 0, n = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var quote = Vector256.Create((byte)'"');
            var zero = Vector256.Create((byte)'0');
            var ten = Vector256.Create((byte)10);
            var at = Vector256.Create((byte)'@');
            for (var k = 0; k < 64; k += 32)
            {
                var v = Vector256.Create(block.Slice(k, 32));
                q |= (ulong)Vector256.Equals(v, quote).ExtractMostSignificantBits() << k;
                // Bytes compare unsigned: below '0' wraps round to above 9.
                n |= (ulong)(Vector256.LessThan(v - zero, ten) | Vector256.Equals(v, at)).ExtractMostSignificantBits() << k;
            }
            return (q, n);
        }
        var quote16 = Vector128.Create((byte)'"');
        var zero16 = Vector128.Create((byte)'0');
        var ten16 = Vector128.Create((byte)10);
        var at16 = Vector128.Create((byte)'@');
        for (var k = 0; k < 64; k += 16)
        {
            var v = Vector128.Create(block.Slice(k, 16));
            q |= (ulong)Vector128.Equals(v, quote16).ExtractMostSignificantBits() << k;
            n |= (ulong)(Vector128.LessThan(v - zero16, ten16) | Vector128.Equals(v, at16)).ExtractMostSignificantBits() << k;
        }
        return (q, n);
    }

    /// <summary>The first set bit at or after <paramref name="from"/>, or -1.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int NextBit(ReadOnlySpan<ulong> bits, int from)
    {
        var w = from >> 6;
        if (w >= bits.Length)
        {
            return -1;
        }
        var word = bits[w] & (ulong.MaxValue << (from & 63));
        while (word == 0)
        {
            if (++w == bits.Length)
            {
                return -1;
            }
            word = bits[w];
        }
        return (w << 6) + BitOperations.TrailingZeroCount(word);
    }

    /// <summary>True when a bit from <paramref name="from"/> up to (not including) <paramref name="to"/> is set.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static bool AnyBit(ReadOnlySpan<ulong> bits, int from, int to)
    {
        for (var w = from >> 6; from < to; w++)
        {
            var end = Math.Min(to, (w + 1) << 6);
            var width = end - from;
            var mask = (width == 64 ? ulong.MaxValue : (1UL << width) - 1) << (from & 63);
            if ((bits[w] & mask) != 0)
            {
                return true;
            }
            from = end;
        }
        return false;
    }

    /// <summary>
    /// True when the text of <paramref name="ascii"/> (plain ASCII, no escape) has a hit: read on the stack or, when longer,
    /// into a pooled array. Apart from the reading, so that a clean answer's reading clears no buffer.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private bool Holds(ReadOnlySpan<byte> ascii, BoundaryBudget? budget)
    {
        // Only as long (and only as cleared) as the text, and not there at all when the text goes to a pooled array.
        Span<char> small = stackalloc char[ascii.Length <= RequestScrubber.StackChars ? ascii.Length : 0];
        char[]? rented = null;
        try
        {
            return !Policy.Scan(Widen(ascii, small, ref rented), budget).IsClean;
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary><see cref="RequestScrubber.IsStructural"/> of a name in plain ASCII, widened on the stack.</summary>
    private static bool IsStructural(ReadOnlySpan<byte> name)
    {
        if (name.Length > MaxStructuralKey)
        {
            return false;
        }
        Span<char> chars = stackalloc char[MaxStructuralKey];
        for (var i = 0; i < name.Length; i++)
        {
            chars[i] = (char)name[i];
        }
        return RequestScrubber.IsStructural(chars[..name.Length]);
    }

    /// <summary>The longest structural key ("system_fingerprint"): a longer name is not one.</summary>
    private const int MaxStructuralKey = 18;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int SkipSpace(ReadOnlySpan<byte> json, int at)
    {
        while (at < json.Length && json[at] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
        {
            at++;
        }
        return at;
    }

    /// <summary>How deep in objects and arrays <paramref name="at"/> is, in JSON with no backslash (a quote always opens or closes a string).</summary>
    private static int DepthAt(ReadOnlySpan<byte> json, int at)
    {
        var depth = 0;
        var inString = false;
        foreach (var b in json[..at])
        {
            inString ^= b == (byte)'"';
            depth += inString ? 0 : b is (byte)'{' or (byte)'[' ? 1 : b is (byte)'}' or (byte)']' ? -1 : 0;
        }
        return depth;
    }

    /// <summary>ASCII bytes as the characters they are, in <paramref name="small"/> or, when longer, a pooled array.</summary>
    private static ReadOnlySpan<char> Widen(ReadOnlySpan<byte> ascii, Span<char> small, ref char[]? rented)
    {
        var buffer = small;
        if (ascii.Length > small.Length)
        {
            if (rented is null || rented.Length < ascii.Length)
            {
                if (rented is not null)
                {
                    System.Buffers.ArrayPool<char>.Shared.Return(rented);
                }
                rented = System.Buffers.ArrayPool<char>.Shared.Rent(ascii.Length);
            }
            buffer = rented;
        }
        System.Text.Ascii.ToUtf16(ascii, buffer, out var written);
        return buffer[..written];
    }
}
