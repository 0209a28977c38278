using System.Text;
using CsCheck;

namespace Pilotage.Core.Tests.Fuzz;

/// <summary>
/// Seeded mutation of valid files into hostile ones: byte flips, truncations, random bytes, invalid UTF-8,
/// byte-order marks, unbalanced quotes and brackets, deep nesting, YAML anchors and tags, duplicated lines
/// (duplicate keys), huge fields. Starting from real files reaches deep into the parsers, where purely
/// random bytes would be refused at the first character.
/// </summary>
internal static class Mutations
{
    /// <summary>Iterations per property: enough to find shallow crashes on every run, few enough to stay at a few seconds.</summary>
    public static long Iterations => Scaled(400);

    /// <summary>
    /// <paramref name="iterations"/> times <c>PILOTAGE_FUZZ_SCALE</c> (default 1): CI runs the quick default with a new
    /// seed every time; a developer soaks the same properties longer with, say, <c>PILOTAGE_FUZZ_SCALE=50</c>.
    /// </summary>
    public static long Scaled(long iterations) =>
        long.TryParse(Environment.GetEnvironmentVariable("PILOTAGE_FUZZ_SCALE"), out var scale) && scale > 0 ? iterations * scale : iterations;

    /// <summary>Runs on one thread so a failure reproduces from its seed alone (CsCheck prints it; pass it as <c>seed:</c>).</summary>
    public const int Threads = 1;

    private static readonly byte[][] Snippets =
    [
        "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), "\""u8.ToArray(), "'"u8.ToArray(),
        ","u8.ToArray(), ":"u8.ToArray(), ": "u8.ToArray(), "- "u8.ToArray(), "\n"u8.ToArray(), "\r\n"u8.ToArray(), "\t"u8.ToArray(),
        "  "u8.ToArray(), "---\n"u8.ToArray(), "...\n"u8.ToArray(), "&a "u8.ToArray(), "*a"u8.ToArray(), "<<: *a\n"u8.ToArray(),
        "!!binary "u8.ToArray(), "!!int "u8.ToArray(), "%YAML 1.1\n"u8.ToArray(), "? "u8.ToArray(), "|\n"u8.ToArray(), ">-\n"u8.ToArray(),
        "null"u8.ToArray(), "~"u8.ToArray(), "true"u8.ToArray(), "-1"u8.ToArray(), "1e309"u8.ToArray(), "99999999999999999999999"u8.ToArray(),
        "NaN"u8.ToArray(), "\\u0000"u8.ToArray(), "\\ud800"u8.ToArray(), "\"\"\""u8.ToArray(), "=cmd|' /C calc'!A0"u8.ToArray(),
        [0xEF, 0xBB, 0xBF], [0x00], [0xFF], [0xFE, 0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82],
        Encoding.UTF8.GetBytes(new string('[', 5000)), Encoding.UTF8.GetBytes(new string('{', 3000)),
        Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("- ", 2000))), Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("a: ", 2000))),
        Encoding.UTF8.GetBytes(new string('x', 200_000)), Encoding.UTF8.GetBytes(new string('"', 1000)),
    ];

    private readonly record struct Mutation(int Kind, int Position, int Length, int Pick);

    private static readonly Gen<Mutation> OneMutation =
        Gen.Select(Gen.Int[0, 7], Gen.Int[0, int.MaxValue], Gen.Int[1, 64], Gen.Int[0, int.MaxValue], (k, p, l, s) => new Mutation(k, p, l, s));

    /// <summary>One to eight mutations applied in turn to one of <paramref name="seeds"/>.</summary>
    public static Gen<byte[]> Of(params byte[][] seeds) =>
        Gen.Select(Gen.Int[0, seeds.Length - 1], OneMutation.Array[1, 8], Gen.Byte.Array[1, 64], (s, mutations, random) => Apply(seeds[s], mutations, random));

    private static byte[] Apply(byte[] seed, Mutation[] mutations, byte[] random)
    {
        var bytes = new List<byte>(seed);
        foreach (var m in mutations)
        {
            if (bytes.Count > 32 * 1024 * 1024) break; // past every parser's size limit: more adds nothing
            var at = bytes.Count == 0 ? 0 : m.Position % (bytes.Count + 1);
            switch (m.Kind)
            {
                case 0 when bytes.Count > 0: // flip bits of one byte
                    var i = Math.Min(at, bytes.Count - 1);
                    bytes[i] = (byte)(bytes[i] ^ (1 << (m.Pick % 8)));
                    break;
                case 1: // truncate
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 2: // random bytes
                    bytes.InsertRange(at, random.Take(m.Length));
                    break;
                case 3: // a hostile snippet
                case 4:
                    bytes.InsertRange(at, Snippets[m.Pick % Snippets.Length]);
                    break;
                case 5: // duplicate a line: duplicate keys, repeated headers, repeated cases
                    var (start, end) = LineAround(bytes, at);
                    bytes.InsertRange(end, bytes.GetRange(start, end - start));
                    break;
                case 6: // delete a range
                    bytes.RemoveRange(at, Math.Min(m.Length, bytes.Count - at));
                    break;
                default: // repeat a line many times
                    var (from, to) = LineAround(bytes, at);
                    var line = bytes.GetRange(from, to - from);
                    for (var r = 0; r < m.Length * 4 && line.Count > 0 && bytes.Count < 4 * 1024 * 1024; r++) bytes.InsertRange(to, line);
                    break;
            }
        }
        return bytes.ToArray();
    }

    private static (int Start, int End) LineAround(List<byte> bytes, int at)
    {
        var start = at;
        while (start > 0 && bytes[start - 1] != (byte)'\n') start--;
        var end = at;
        while (end < bytes.Count && bytes[end] != (byte)'\n') end++;
        return (start, Math.Min(end + 1, bytes.Count));
    }

    /// <summary>What a reader of text files sees for these bytes: invalid sequences become U+FFFD, as File.ReadAllText does.</summary>
    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>Runs a property with a hang guard: a parser that loops forever fails the test instead of stalling the run.</summary>
    public static void Check(Gen<byte[]> gen, Action<byte[]> property)
    {
        var run = Task.Run(() => gen.Sample(property, iter: Iterations, threads: Threads));
        if (!run.Wait(TimeSpan.FromMinutes(2)))
        {
            throw new TimeoutException("a parser did not finish within 2 minutes: a hang (the CsCheck seed is printed when the sample ends)");
        }
    }
}
