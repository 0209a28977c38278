using System.Collections;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Pilotage.Server.Policy;

/// <summary>
/// An immutable dictionary split into shards, each a frozen dictionary. A lookup costs one hash more than a
/// single frozen dictionary; a change re-freezes only the shards its keys fall in and shares every other shard
/// with the map it came from, so changing one system among 10 k re-freezes about 40 entries, not 10 k.
/// </summary>
public sealed class PolicyDictionary<TKey, TValue> : IReadOnlyDictionary<TKey, TValue>
    where TKey : notnull
    where TValue : class
{
    // 256 shards keep a shard near 400 entries at 100 k keys, and cost 2 KB of empty references for a tiny map.
    private const int ShardCount = 256;

    private readonly FrozenDictionary<TKey, TValue>[] _shards;
    private readonly IEqualityComparer<TKey> _comparer;

    private PolicyDictionary(FrozenDictionary<TKey, TValue>[] shards, IEqualityComparer<TKey> comparer, int count)
    {
        _shards = shards;
        _comparer = comparer;
        Count = count;
    }

    public int Count { get; }

    internal static PolicyDictionary<TKey, TValue> Empty(IEqualityComparer<TKey> comparer)
    {
        var shards = new FrozenDictionary<TKey, TValue>[ShardCount];
        Array.Fill(shards, FrozenDictionary<TKey, TValue>.Empty);
        return new PolicyDictionary<TKey, TValue>(shards, comparer, 0);
    }

    /// <summary>A map of these entries; a key given twice keeps its last value.</summary>
    internal static PolicyDictionary<TKey, TValue> From(IEnumerable<KeyValuePair<TKey, TValue>> entries, IEqualityComparer<TKey> comparer)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var map = Empty(comparer);
        var buckets = new Dictionary<TKey, TValue>?[ShardCount];
        foreach (var (key, value) in entries) (buckets[map.ShardOf(key)] ??= new(comparer))[key] = value;
        var count = 0;
        for (var i = 0; i < ShardCount; i++)
        {
            if (buckets[i] is not { } bucket) continue;
            map._shards[i] = bucket.ToFrozenDictionary(comparer);
            count += bucket.Count;
        }
        return new PolicyDictionary<TKey, TValue>(map._shards, comparer, count);
    }

    /// <summary>
    /// This map with these entries set (a null value removes its key). Only the shards the keys fall in are
    /// rebuilt; this map is left as it was and shares its other shards with the result.
    /// </summary>
    public PolicyDictionary<TKey, TValue> With(IEnumerable<KeyValuePair<TKey, TValue?>> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        Dictionary<int, Dictionary<TKey, TValue>>? touched = null;
        foreach (var (key, value) in changes)
        {
            var shard = ShardOf(key);
            touched ??= [];
            if (!touched.TryGetValue(shard, out var bucket)) touched[shard] = bucket = new Dictionary<TKey, TValue>(_shards[shard], _comparer);
            if (value is null) bucket.Remove(key);
            else bucket[key] = value;
        }
        if (touched is null) return this;
        var shards = (FrozenDictionary<TKey, TValue>[])_shards.Clone();
        var count = Count;
        foreach (var (shard, bucket) in touched)
        {
            count += bucket.Count - shards[shard].Count;
            shards[shard] = bucket.Count == 0 ? FrozenDictionary<TKey, TValue>.Empty : bucket.ToFrozenDictionary(_comparer);
        }
        return new PolicyDictionary<TKey, TValue>(shards, _comparer, count);
    }

    /// <summary>Whether this map and <paramref name="other"/> share the shard that holds <paramref name="key"/> (tests: what a change left alone).</summary>
    internal bool SharesShardOf(PolicyDictionary<TKey, TValue> other, TKey key) => ReferenceEquals(_shards[ShardOf(key)], other._shards[ShardOf(key)]);

    private int ShardOf(TKey key) => (int)((uint)_comparer.GetHashCode(key) % ShardCount);

    public TValue this[TKey key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"'{key}' is not in the policy snapshot");

    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value) => _shards[ShardOf(key)].TryGetValue(key, out value);

    public TValue? GetValueOrDefault(TKey key) => TryGetValue(key, out var value) ? value : null;

    public bool ContainsKey(TKey key) => _shards[ShardOf(key)].ContainsKey(key);

    public IEnumerable<TKey> Keys => _shards.SelectMany(s => s.Keys);

    public IEnumerable<TValue> Values => _shards.SelectMany(s => s.Values);

    public IEnumerator<KeyValuePair<TKey, TValue>> GetEnumerator() => _shards.SelectMany(s => s).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
