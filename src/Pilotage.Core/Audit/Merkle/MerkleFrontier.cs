namespace Pilotage.Core.Audit.Merkle;

/// <summary>
/// The right edge of an append-only Merkle tree: the roots of the complete subtrees that make up its
/// leaves, largest first (one per set bit of the size). Appending a leaf merges at most log2(n) of them,
/// and each merge completes a subtree a store keeps, so proofs never need the leaves again.
/// </summary>
public sealed class MerkleFrontier
{
    private readonly List<byte[]> _roots;

    public MerkleFrontier() => _roots = [];

    private MerkleFrontier(long size, List<byte[]> roots)
    {
        Size = size;
        _roots = roots;
    }

    public long Size { get; private set; }

    /// <summary>Appends a leaf hash and returns every complete subtree this append finished (the leaf first, then upward).</summary>
    public IReadOnlyList<(MerkleNode Node, byte[] Hash)> Append(byte[] leafHash)
    {
        var completed = new List<(MerkleNode, byte[])>(4);
        Append(leafHash, completed);
        return completed;
    }

    /// <summary>Appends a leaf hash, adding the complete subtrees it finished to <paramref name="completed"/> when given.</summary>
    public void Append(byte[] leafHash, List<(MerkleNode Node, byte[] Hash)>? completed)
    {
        ArgumentNullException.ThrowIfNull(leafHash);
        if (leafHash.Length != MerkleHash.Size) throw new ArgumentException("a leaf hash is 32 bytes", nameof(leafHash));
        var index = Size;
        var level = 0;
        var hash = leafHash;
        completed?.Add((new MerkleNode(0, index), hash));
        // A set low bit means the new subtree is a right child: its left sibling is the last root held.
        while ((index & 1) == 1)
        {
            hash = MerkleHash.Node(_roots[^1], hash);
            _roots.RemoveAt(_roots.Count - 1);
            index >>= 1;
            level++;
            completed?.Add((new MerkleNode(level, index), hash));
        }
        _roots.Add(hash);
        Size++;
    }

    /// <summary>The tree's root (RFC 9162 MTH): the held subtree roots folded from the right.</summary>
    public byte[] Root()
    {
        if (_roots.Count == 0) return MerkleHash.EmptyRoot();
        var hash = _roots[^1];
        for (var i = _roots.Count - 2; i >= 0; i--) hash = MerkleHash.Node(_roots[i], hash);
        return hash;
    }

    /// <summary>The held roots, concatenated, for a store to keep beside the size.</summary>
    public byte[] ToBytes() => [.. _roots.SelectMany(r => r)];

    /// <summary>Restores a frontier kept by <see cref="ToBytes"/>; refuses bytes that do not fit the size.</summary>
    public static MerkleFrontier FromBytes(long size, ReadOnlySpan<byte> bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        var expected = System.Numerics.BitOperations.PopCount((ulong)size);
        if (bytes.Length != expected * MerkleHash.Size)
        {
            throw new FormatException($"a tree of {size} leaves has {expected} subtree roots, but {bytes.Length} bytes were kept");
        }
        var roots = new List<byte[]>(expected);
        for (var i = 0; i < expected; i++) roots.Add(bytes.Slice(i * MerkleHash.Size, MerkleHash.Size).ToArray());
        return new MerkleFrontier(size, roots);
    }

    /// <summary>The complete subtrees whose roots a frontier of this size holds, largest first.</summary>
    public static IReadOnlyList<MerkleNode> Nodes(long size) => MerkleNode.Cover(0, size);
}
