using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CsCheck;
using Pilotage.Core.Audit;

namespace Pilotage.Core.Tests.Audit;

/// <summary>
/// The audit chain's hashing on its own: the canonical encoding docs/audit.md publishes (so anyone can
/// recompute a hash), that it tells every two entries apart, and that the chain walk names the first
/// entry that was altered, deleted, reordered or added behind the log's back.
/// </summary>
public sealed class AuditHasherTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 31, 17, 4, 5, 678, TimeSpan.Zero);

    private static AuditRecord Entry(long sequence = 1, string previous = "") => new(
        sequence, At, "dana@example.org", "system.applied", "system:support-reply-drafts", null, "{\"configVersion\":1}",
        previous.Length == 0 ? AuditHasher.Genesis : previous);

    [Fact]
    public void The_encoding_is_the_published_json_array_and_both_hashes_are_sha256_of_it()
    {
        const string expected = "[\"pilotage-audit/v1\",1,\"2026-03-31T17:04:05.678Z\",\"dana@example.org\",\"system.applied\",\"system:support-reply-drafts\",null,"
            + "\"{\\u0022configVersion\\u0022:1}\",\"0000000000000000000000000000000000000000000000000000000000000000\"]";
        var entry = Entry();

        var encoded = AuditHasher.Encode(entry);

        Assert.Equal(expected, Encoding.UTF8.GetString(encoded));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(expected))), AuditHasher.Compute(entry));
        Assert.Equal(SHA256.HashData([0x00, .. Encoding.UTF8.GetBytes(expected)]), AuditHasher.LeafHash(entry));
        Assert.Equal(64, AuditHasher.Genesis.Length);
        Assert.All(AuditHasher.Genesis, c => Assert.Equal('0', c));
    }

    [Fact]
    public void Timestamps_are_hashed_in_UTC_to_the_millisecond_whatever_the_offset_or_the_stores_precision()
    {
        var entry = Entry();
        var inParis = entry with { At = At.ToOffset(TimeSpan.FromHours(2)) };
        var withMicroseconds = entry with { At = At.AddTicks(9_999) };
        var oneMillisecondLater = entry with { At = At.AddMilliseconds(1) };

        Assert.Equal(AuditHasher.Compute(entry), AuditHasher.Compute(inParis));
        Assert.Equal(AuditHasher.Compute(entry), AuditHasher.Compute(withMicroseconds));
        Assert.NotEqual(AuditHasher.Compute(entry), AuditHasher.Compute(oneMillisecondLater));
        Assert.Equal((TimeSpan.Zero, 0L), (AuditHasher.Normalise(withMicroseconds.At).Offset, AuditHasher.Normalise(withMicroseconds.At).Ticks % TimeSpan.TicksPerMillisecond));
    }

    /// <summary>Characters that would forge a field boundary in a naive encoding.</summary>
    private static readonly Gen<string> Text = Gen.String[Gen.Char["ab\",\\]\n\u00e9\u2028"], 0, 6];

    private static readonly Gen<string?> MaybeText = Gen.Select(Gen.Int[0, 3], Text, (n, text) => n == 0 ? null : (string?)text);

    private static readonly Gen<AuditRecord> Records = Gen.Select(
        Gen.Long[1, 5], Gen.Long[0, 3_000], Gen.Select(Text, Text, Text, (actor, action, subject) => (actor, action, subject)), MaybeText, MaybeText, Text,
        (sequence, ms, fields, before, after, previous) =>
            new AuditRecord(sequence, At.AddMilliseconds(ms), fields.actor, fields.action, fields.subject, before, after, previous));

    [Fact]
    public void The_encoding_reads_back_field_for_field_so_no_two_entries_share_it()
    {
        Records.Sample(entry =>
        {
            using var document = JsonDocument.Parse(AuditHasher.Encode(entry));
            var fields = document.RootElement.EnumerateArray().ToArray();

            Assert.Equal(9, fields.Length);
            Assert.Equal("pilotage-audit/v1", fields[0].GetString());
            Assert.Equal(entry.Sequence, fields[1].GetInt64());
            Assert.Equal(AuditHasher.Normalise(entry.At), DateTimeOffset.Parse(fields[2].GetString()!, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(new[] { entry.Actor, entry.Action, entry.Subject, entry.Before, entry.After, entry.PreviousHash },
                fields[3..].Select(f => f.ValueKind == JsonValueKind.Null ? null : f.GetString()).ToArray());
        });
    }

    [Fact]
    public void Two_entries_differing_in_any_field_hash_differently()
    {
        Gen.Select(Records, Records).Sample((a, b) =>
        {
            var same = a with { At = AuditHasher.Normalise(a.At) } == b with { At = AuditHasher.Normalise(b.At) };
            Assert.Equal(same, AuditHasher.Compute(a) == AuditHasher.Compute(b));
        });
        var entry = Entry();
        Assert.NotEqual(AuditHasher.Compute(entry with { Before = null }), AuditHasher.Compute(entry with { Before = "" }));
    }

    private sealed record Stored(AuditRecord Entry, string Hash);

    /// <summary>A chain as the log writes it: each entry's previous hash is the hash before it.</summary>
    private static List<Stored> Chain(int length)
    {
        var chain = new List<Stored>();
        var previous = AuditHasher.Genesis;
        for (var i = 1; i <= length; i++)
        {
            var entry = new AuditRecord(i, At.AddSeconds(i), $"user{i}@example.org", "review.recorded", $"interaction:{i}", null, $"{{\"n\":{i}}}", previous);
            previous = AuditHasher.Compute(entry);
            chain.Add(new Stored(entry, previous));
        }
        return chain;
    }

    private static AuditVerification Verify(IEnumerable<Stored> rows, long headSequence, string headHash)
    {
        var verifier = new AuditChainVerifier();
        foreach (var row in rows) verifier.Add(row.Entry, row.Hash);
        return verifier.Complete(headSequence, headHash);
    }

    [Fact]
    public void An_untouched_chain_verifies_up_to_its_head()
    {
        Gen.Int[0, 30].Sample(length =>
        {
            var chain = Chain(length);
            var head = chain.Count == 0 ? AuditHasher.Genesis : chain[^1].Hash;

            var result = Verify(chain, length, head);

            Assert.True(result.Ok, result.FirstBad?.Reason);
            Assert.Equal((length, head), (result.Entries, result.HeadHash));
        });
    }

    [Fact]
    public void Each_kind_of_tampering_is_caught_at_the_first_entry_it_touches()
    {
        Gen.Select(Gen.Int[2, 20], Gen.Int[0, 5], Gen.Int[0, int.MaxValue], (length, kind, pick) => (length, kind, pick)).Sample(t =>
        {
            var chain = Chain(t.length);
            var k = (t.pick % (t.length - 1)) + 1;
            var head = (Sequence: (long)t.length, Hash: chain[^1].Hash);
            var rows = chain.ToList();
            long expected;
            switch (t.kind)
            {
                case 0: // content edited in place, hash left as stored
                    rows[k - 1] = rows[k - 1] with { Entry = rows[k - 1].Entry with { Subject = "interaction:forged" } };
                    expected = k;
                    break;
                case 1: // content edited and its own hash recomputed: the next entry no longer chains
                    var forged = rows[k - 1].Entry with { Actor = "mallory@example.org" };
                    rows[k - 1] = new Stored(forged, AuditHasher.Compute(forged));
                    expected = k + 1;
                    break;
                case 2: // a row deleted from the middle
                    rows.RemoveAt(k - 1);
                    expected = k;
                    break;
                case 3: // two rows swapped
                    (rows[k - 1], rows[k]) = (rows[k], rows[k - 1]);
                    expected = k;
                    break;
                case 4: // the tail deleted: only the recorded head shows it
                    rows.RemoveRange(k, rows.Count - k);
                    expected = k + 1;
                    break;
                default: // a well-chained row inserted after the head, the head left alone
                    var extra = new AuditRecord(t.length + 1, At, "mallory@example.org", "key.created", "key:x", null, null, chain[^1].Hash);
                    rows.Add(new Stored(extra, AuditHasher.Compute(extra)));
                    expected = t.length + 1;
                    break;
            }

            var result = Verify(rows, head.Sequence, head.Hash);

            Assert.False(result.Ok, $"tampering {t.kind} at {k} of {t.length} was not caught");
            Assert.Equal(expected, result.FirstBad!.Sequence);
            Assert.Null(result.HeadHash);
        });
    }
}
