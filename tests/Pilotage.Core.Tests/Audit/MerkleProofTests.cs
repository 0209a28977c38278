using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Pilotage.Core.Audit.Merkle;

namespace Pilotage.Core.Tests.Audit;

/// <summary>
/// The audit tree against RFC 9162's recursive definition, and its proofs for every pair of sizes: each
/// honest proof verifies, and a proof for another leaf, size or root does not.
/// </summary>
public sealed class MerkleProofTests
{
    private const int Bound = 40;

    /// <summary>MTH as RFC 9162 section 2.1.1 defines it, straight from the text.</summary>
    private static byte[] Reference(IReadOnlyList<byte[]> leaves, int start, int end)
    {
        var n = end - start;
        if (n == 0) return SHA256.HashData([]);
        if (n == 1) return MerkleHash.Leaf(leaves[start]);
        var k = 1;
        while (k * 2 < n) k *= 2;
        return MerkleHash.Node(Reference(leaves, start, start + k), Reference(leaves, start + k, end));
    }

    /// <summary>A tree built by appends, with every completed subtree kept as a store would.</summary>
    private sealed class Tree
    {
        public readonly Dictionary<long, byte[]> Nodes = [];
        public readonly List<byte[]> Roots = [MerkleHash.EmptyRoot()];
        public readonly MerkleFrontier Frontier = new();

        public Tree(IReadOnlyList<byte[]> leaves)
        {
            foreach (var leaf in leaves)
            {
                foreach (var (node, hash) in Frontier.Append(MerkleHash.Leaf(leaf))) Nodes.Add(node.Key, hash);
                Roots.Add(Frontier.Root());
            }
        }

        public IReadOnlyList<byte[]> Prove(IReadOnlyList<LeafRange> ranges) => MerkleProofs.Assemble(ranges, n => Nodes[n.Key]);
    }

    private static readonly Gen<byte[][]> Leaves = Gen.Byte.Array[0, 12].Array[0, Bound];

    [Fact]
    public void The_appended_tree_has_the_RFC_root_at_every_size()
    {
        Leaves.Sample(leaves =>
        {
            var tree = new Tree(leaves);
            for (var size = 0; size <= leaves.Length; size++)
            {
                Assert.Equal(Reference(leaves, 0, size), tree.Roots[size]);
            }
            var restored = MerkleFrontier.FromBytes(tree.Frontier.Size, tree.Frontier.ToBytes());
            Assert.Equal(tree.Frontier.Root(), restored.Root());
        }, iter: 200);
    }

    [Fact]
    public void Inclusion_proofs_verify_for_every_leaf_of_every_size_and_fail_for_any_other_claim()
    {
        Leaves.Where(l => l.Length > 0).Sample(leaves =>
        {
            var tree = new Tree(leaves);
            for (var size = 1; size <= leaves.Length; size++)
            {
                var root = tree.Roots[size];
                for (var index = 0; index < size; index++)
                {
                    var leaf = MerkleHash.Leaf(leaves[index]);
                    var proof = tree.Prove(MerkleProofs.InclusionRanges(index, size));
                    Assert.True(MerkleProofs.VerifyInclusion(index, size, leaf, proof, root), $"leaf {index} of {size}");
                    // Another position, another tree, another leaf, another root: refused.
                    if (size > 1) Assert.False(MerkleProofs.VerifyInclusion((index + 1) % size, size, leaf, proof, root) && !leaves[index].AsSpan().SequenceEqual(leaves[(index + 1) % size]), $"{index} of {size}");
                    if (size < leaves.Length) Assert.False(MerkleProofs.VerifyInclusion(index, size + 1, leaf, proof, tree.Roots[size + 1]), $"{index} of {size}");
                    Assert.False(MerkleProofs.VerifyInclusion(index, size, MerkleHash.Leaf([.. leaves[index], 0x2a]), proof, root), $"{index} of {size}");
                    Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, proof, MerkleHash.Node(root, root)), $"{index} of {size}");
                    if (proof.Count > 0)
                    {
                        var bent = proof.Select(p => p.ToArray()).ToList();
                        bent[^1][0] ^= 1;
                        Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, bent, root), $"{index} of {size}");
                    }
                }
            }
        }, iter: 30);
    }

    [Fact]
    public void Consistency_proofs_verify_for_every_pair_of_sizes_and_fail_for_a_different_old_tree()
    {
        Leaves.Sample(leaves =>
        {
            var tree = new Tree(leaves);
            for (var newSize = 0; newSize <= leaves.Length; newSize++)
            {
                for (var oldSize = 0; oldSize <= newSize; oldSize++)
                {
                    var proof = tree.Prove(MerkleProofs.ConsistencyRanges(oldSize, newSize));
                    Assert.True(MerkleProofs.VerifyConsistency(oldSize, newSize, proof, tree.Roots[oldSize], tree.Roots[newSize]), $"{oldSize} -> {newSize}");
                    if (oldSize > 0)
                    {
                        // A rewritten old tree (its first leaf changed) has another root: no proof links it.
                        var rewritten = leaves.Take(oldSize).Select(l => l.ToArray()).ToArray();
                        rewritten[0] = [.. rewritten[0], 0x2a];
                        var forgedRoot = Reference(rewritten, 0, oldSize);
                        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, proof, forgedRoot, tree.Roots[newSize]), $"{oldSize} of {newSize}");
                    }
                    if (oldSize < newSize)
                    {
                        // A proof between other sizes proves nothing here.
                        if (oldSize > 0) Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, proof, tree.Roots[oldSize], MerkleHash.Node(tree.Roots[newSize], tree.Roots[newSize])), $"{oldSize} of {newSize}");
                        if (oldSize > 0) Assert.False(MerkleProofs.VerifyConsistency(newSize, oldSize, proof, tree.Roots[newSize], tree.Roots[oldSize]), $"{oldSize} of {newSize}");
                    }
                }
            }
        }, iter: 30);
    }

    [Fact]
    public void Proofs_read_only_a_logarithmic_number_of_stored_nodes()
    {
        foreach (var size in new long[] { 1, 2, 3, 7, 8, 1_000, 1_048_576, 1_000_003 })
        {
            var limit = 2 * (64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)size)) + 2;
            for (var index = 0L; index < size; index += Math.Max(1, size / 7))
            {
                Assert.True(MerkleProofs.NodesFor(MerkleProofs.InclusionRanges(index, size)).Count <= limit, $"inclusion {index}/{size}");
                Assert.True(MerkleProofs.NodesFor(MerkleProofs.ConsistencyRanges(index, size)).Count <= limit, $"consistency {index}/{size}");
            }
        }
    }

    [Fact]
    public void Leaf_and_node_hashes_are_domain_separated_as_RFC_9162_says()
    {
        var data = Encoding.UTF8.GetBytes("entry");
        Assert.Equal(SHA256.HashData([0x00, .. data]), MerkleHash.Leaf(data));
        var (a, b) = (SHA256.HashData("a"u8), SHA256.HashData("b"u8));
        Assert.Equal(SHA256.HashData([0x01, .. a, .. b]), MerkleHash.Node(a, b));
        // The empty tree's root is SHA-256 of nothing (RFC 9162 2.1.1).
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Convert.ToHexStringLower(MerkleHash.EmptyRoot()));
    }
}
