namespace Pilotage.Core.Audit.Merkle;

/// <summary>A run of leaves [Start, End) whose subtree root (RFC 9162 MTH) is one element of a proof.</summary>
public readonly record struct LeafRange(long Start, long End);

/// <summary>
/// RFC 9162 inclusion and consistency proofs (sections 2.1.3 and 2.1.4). Building one first names the
/// leaf ranges whose roots it needs; each range is a handful of complete subtrees, so a store answers
/// with one read of O(log n) stored nodes. Checking one needs only hashes.
/// </summary>
public static class MerkleProofs
{
    /// <summary>The ranges of an inclusion proof of leaf <paramref name="index"/> in a tree of <paramref name="size"/> leaves, deepest first.</summary>
    public static IReadOnlyList<LeafRange> InclusionRanges(long index, long size)
    {
        if (index < 0 || index >= size) throw new ArgumentOutOfRangeException(nameof(index), $"leaf {index} is not in a tree of {size} leaves");
        var ranges = new List<LeafRange>();
        Path(index, 0, size, ranges);
        return ranges;
    }

    /// <summary>The ranges of a proof that the tree of <paramref name="newSize"/> leaves extends the one of <paramref name="oldSize"/>.</summary>
    public static IReadOnlyList<LeafRange> ConsistencyRanges(long oldSize, long newSize)
    {
        if (oldSize < 0 || newSize < oldSize) throw new ArgumentOutOfRangeException(nameof(oldSize), $"a tree of {newSize} leaves cannot extend one of {oldSize}");
        var ranges = new List<LeafRange>();
        if (oldSize > 0 && oldSize < newSize) SubProof(oldSize, 0, newSize, true, ranges);
        return ranges;
    }

    /// <summary>The complete subtrees a store must read to build a proof of these ranges.</summary>
    public static IReadOnlyList<MerkleNode> NodesFor(IEnumerable<LeafRange> ranges) =>
        ranges.SelectMany(r => MerkleNode.Cover(r.Start, r.End)).Distinct().ToList();

    /// <summary>Folds the stored subtree roots of each range into that range's root: the proof itself.</summary>
    public static IReadOnlyList<byte[]> Assemble(IEnumerable<LeafRange> ranges, Func<MerkleNode, byte[]> hashOf)
    {
        ArgumentNullException.ThrowIfNull(hashOf);
        return ranges.Select(r => RootOf(MerkleNode.Cover(r.Start, r.End), hashOf)).ToList();
    }

    /// <summary>The root of leaves covered by these subtrees (largest first), folded from the right as RFC 9162 splits.</summary>
    public static byte[] RootOf(IReadOnlyList<MerkleNode> cover, Func<MerkleNode, byte[]> hashOf)
    {
        ArgumentNullException.ThrowIfNull(cover);
        ArgumentNullException.ThrowIfNull(hashOf);
        if (cover.Count == 0) return MerkleHash.EmptyRoot();
        var hash = hashOf(cover[^1]);
        for (var i = cover.Count - 2; i >= 0; i--) hash = MerkleHash.Node(hashOf(cover[i]), hash);
        return hash;
    }

    /// <summary>RFC 9162 2.1.3.2: whether <paramref name="proof"/> shows the leaf at <paramref name="index"/> is in the tree with this root.</summary>
    public static bool VerifyInclusion(long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (index < 0 || index >= size) return false;
        var fn = index;
        var sn = size - 1;
        var r = leafHash.ToArray();
        foreach (var p in proof)
        {
            if (sn == 0 || p.Length != MerkleHash.Size) return false;
            if ((fn & 1) == 1 || fn == sn)
            {
                r = MerkleHash.Node(p, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                r = MerkleHash.Node(r, p);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r.AsSpan().SequenceEqual(root);
    }

    /// <summary>RFC 9162 2.1.4.2: whether <paramref name="proof"/> shows the tree (newSize, newRoot) extends (oldSize, oldRoot).</summary>
    public static bool VerifyConsistency(long oldSize, long newSize, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> oldRoot, ReadOnlySpan<byte> newRoot)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (oldSize < 0 || newSize < oldSize) return false;
        if (oldSize == newSize) return proof.Count == 0 && oldRoot.SequenceEqual(newRoot);
        // Every tree extends the empty one.
        if (oldSize == 0) return proof.Count == 0 && oldRoot.SequenceEqual(MerkleHash.EmptyRoot());
        var path = new List<byte[]>(proof.Count + 1);
        if ((oldSize & (oldSize - 1)) == 0) path.Add(oldRoot.ToArray());
        path.AddRange(proof);
        if (path.Count == 0 || path.Any(p => p.Length != MerkleHash.Size)) return false;
        var fn = oldSize - 1;
        var sn = newSize - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }
        var fr = path[0];
        var sr = path[0];
        foreach (var c in path.Skip(1))
        {
            if (sn == 0) return false;
            if ((fn & 1) == 1 || fn == sn)
            {
                fr = MerkleHash.Node(c, fr);
                sr = MerkleHash.Node(c, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                sr = MerkleHash.Node(sr, c);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && fr.AsSpan().SequenceEqual(oldRoot) && sr.AsSpan().SequenceEqual(newRoot);
    }

    private static void Path(long m, long start, long n, List<LeafRange> ranges)
    {
        if (n <= 1) return;
        var k = MerkleHash.Split(n);
        if (m < k)
        {
            Path(m, start, k, ranges);
            ranges.Add(new LeafRange(start + k, start + n));
        }
        else
        {
            Path(m - k, start + k, n - k, ranges);
            ranges.Add(new LeafRange(start, start + k));
        }
    }

    private static void SubProof(long m, long start, long n, bool whole, List<LeafRange> ranges)
    {
        if (m == n)
        {
            // The old tree's own root is left out when the verifier already holds it (the first call).
            if (!whole) ranges.Add(new LeafRange(start, start + n));
            return;
        }
        var k = MerkleHash.Split(n);
        if (m <= k)
        {
            SubProof(m, start, k, whole, ranges);
            ranges.Add(new LeafRange(start + k, start + n));
        }
        else
        {
            SubProof(m - k, start + k, n - k, false, ranges);
            ranges.Add(new LeafRange(start, start + k));
        }
    }
}
