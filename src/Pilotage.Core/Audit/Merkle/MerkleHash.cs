using System.Security.Cryptography;

namespace Pilotage.Core.Audit.Merkle;

/// <summary>RFC 9162 (section 2.1.1) hashing: SHA-256, with a one-byte prefix that keeps leaves and nodes apart.</summary>
public static class MerkleHash
{
    public const int Size = 32;

    /// <summary>The root of a tree with no leaves: SHA-256 of nothing.</summary>
    public static byte[] EmptyRoot() => SHA256.HashData([]);

    /// <summary>SHA-256(0x00 || data).</summary>
    public static byte[] Leaf(ReadOnlySpan<byte> data)
    {
        // Entries are a few hundred bytes: one copy on the stack is cheaper than an incremental hash object.
        if (data.Length > 4_096)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData([0x00]);
            hash.AppendData(data);
            return hash.GetHashAndReset();
        }
        Span<byte> input = stackalloc byte[data.Length + 1];
        input[0] = 0x00;
        data.CopyTo(input[1..]);
        return SHA256.HashData(input);
    }

    /// <summary>SHA-256(0x01 || left || right).</summary>
    public static byte[] Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> input = stackalloc byte[1 + (2 * Size)];
        input[0] = 0x01;
        left.CopyTo(input[1..]);
        right.CopyTo(input[(1 + Size)..]);
        return SHA256.HashData(input);
    }

    /// <summary>The largest power of two strictly below <paramref name="n"/> (n &gt; 1): where RFC 9162 splits a tree of n leaves.</summary>
    public static long Split(long n) => 1L << (63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(n - 1)));
}

/// <summary>A complete (perfect) subtree: 2^Level leaves starting at leaf Index × 2^Level.</summary>
public readonly record struct MerkleNode(int Level, long Index)
{
    /// <summary>One number per node, for a store's key: the level in the top byte, the index below it.</summary>
    public long Key => ((long)Level << 56) | Index;

    public static MerkleNode FromKey(long key) => new((int)(key >>> 56), key & ((1L << 56) - 1));

    /// <summary>The complete subtrees that make up leaves [start, end), largest first, when start is aligned as RFC 9162's splits leave it.</summary>
    public static IReadOnlyList<MerkleNode> Cover(long start, long end)
    {
        var nodes = new List<MerkleNode>();
        var at = start;
        for (var level = 62; level >= 0 && at < end; level--)
        {
            var width = 1L << level;
            if (end - at < width) continue;
            if (at % width != 0) throw new ArgumentException($"leaves [{start}, {end}) do not split into complete subtrees");
            nodes.Add(new MerkleNode(level, at >> level));
            at += width;
        }
        return nodes;
    }
}
