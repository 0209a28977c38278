using Pilotage.Server.Policy;

namespace Pilotage.Server.Tests.Policy;

public sealed class PolicyDictionaryTests
{
    [Fact]
    public void A_change_rebuilds_only_its_shard_and_leaves_every_other_entry_the_same_instance()
    {
        var entries = Enumerable.Range(0, 10_000).Select(i => KeyValuePair.Create($"system-{i}", new object())).ToList();
        var map = PolicyDictionary<string, object>.From(entries, StringComparer.Ordinal);
        var changed = new object();

        var next = map.With([KeyValuePair.Create<string, object?>("system-42", changed)]);

        Assert.Same(changed, next["system-42"]);
        Assert.NotSame(changed, map["system-42"]);
        Assert.Equal(10_000, next.Count);
        foreach (var (key, value) in entries.Where(e => e.Key != "system-42")) Assert.Same(value, next[key]);
        var untouched = entries.Count(e => next.SharesShardOf(map, e.Key));
        // All shards but one are shared with the map it came from.
        Assert.InRange(untouched, 10_000 - 200, 10_000 - 1);
        Assert.False(next.SharesShardOf(map, "system-42"));
    }

    [Fact]
    public void Random_sets_and_removals_give_the_same_entries_as_a_dictionary()
    {
        // A property check with a fixed seed: a model dictionary and the map see the same operations.
        var random = new Random(27);
        var model = new Dictionary<long, string>();
        var map = PolicyDictionary<long, string>.Empty(EqualityComparer<long>.Default);
        for (var round = 0; round < 300; round++)
        {
            var changes = Enumerable.Range(0, random.Next(1, 20))
                .Select(_ => KeyValuePair.Create<long, string?>(random.Next(0, 500), random.Next(4) == 0 ? null : $"v{random.Next()}"))
                .ToList();
            var before = map;
            var beforeEntries = before.ToDictionary(e => e.Key, e => e.Value);
            map = map.With(changes);
            foreach (var (key, value) in changes)
            {
                if (value is null) model.Remove(key);
                else model[key] = value;
            }
            Assert.Equal(model.Count, map.Count);
            Assert.Equal(model.OrderBy(e => e.Key), map.OrderBy(e => e.Key));
            foreach (var key in Enumerable.Range(0, 500).Select(k => (long)k))
            {
                Assert.Equal(model.ContainsKey(key), map.ContainsKey(key));
            }
            // The map it came from is a value: unchanged by the change.
            Assert.Equal(beforeEntries.OrderBy(e => e.Key), before.OrderBy(e => e.Key));
        }
    }
}
