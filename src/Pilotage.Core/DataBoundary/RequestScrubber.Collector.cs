using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pilotage.Core.DataBoundary;

public static partial class RequestScrubber
{
    /// <summary>
    /// Gathers per-field results; allocates nothing until a field has a hit. A struct held in the walker (see
    /// <see cref="Walker.Collector"/>), so that a scrub, clean or not, allocates no object for it.
    /// </summary>
    private struct Collector(DataBoundaryPolicy policy, BoundaryBudget? budget, bool shortcuts, RedactedValues redacted)
    {
        /// <summary>True when the text these bytes spell (ASCII with no escape) is certainly clean: see <see cref="DataBoundaryPolicy.NothingToFind(ReadOnlySpan{byte})"/>.</summary>
        public readonly bool NothingToFind(ReadOnlySpan<byte> ascii) => policy.NothingToFind(ascii);

        /// <summary>The policy's scan of one text: with its shortcuts, or, for the walk without shortcuts, without them.</summary>
        public BoundaryScan Scan(ReadOnlySpan<char> text) => shortcuts ? policy.Scan(text, budget, spare) : policy.ScanWithoutShortcuts(text, budget);

        /// <summary>As <see cref="Scan(ReadOnlySpan{char})"/>, for plain ASCII text read with its digits marked (<see cref="AsciiDigits.TryWidenAndMark"/>).</summary>
        public BoundaryScan Scan(ReadOnlySpan<char> text, ReadOnlySpan<ulong> digits, int firstAt) => policy.Scan(text, digits, firstAt, budget, spare);

        /// <summary>The findings list of the last field with a hit, once its hits are recorded and redacted: the next one's.</summary>
        private List<Finding>? spare;

        /// <summary>
        /// The hits so far, in the first <see cref="hitCount"/> places of a pooled array, copied into one of their exact
        /// number in <see cref="Result"/>: a request whose hits are in several fields builds no array per field on the way.
        /// </summary>
        private FieldHit[]? hits;
        private int hitCount;
        private List<string>? uninspectable;
        /// <summary>
        /// Per detector (by policy index) its hits, then from <see cref="DataBoundaryPolicy.DetectorCount"/> on whether it
        /// blocks: a detector that timed out or ran out of budget blocks even where it is configured to redact. Pooled,
        /// and given back in <see cref="Result"/>: the result keeps only the detectors that hit.
        /// </summary>
        private int[]? counts;
        private string? exceededBy;

        /// <summary>The budget ran out in <paramref name="detector"/>: it counts as a blocking hit, like a timeout.</summary>
        public void Exceeded(string detector)
        {
            exceededBy = detector;
            var d = policy.IndexOf(detector);
            Count(d, blocks: true);
        }

        /// <summary>
        /// A text's scan that found something (<paramref name="scan"/>, not clean), recorded at <paramref name="place"/>
        /// (which each walk names its own way, and only here, when there is a hit): the node holding the redacted text, to put
        /// in its place; null when nothing in it is to be replaced. The node holds a string: written out, it costs half what a
        /// node over UTF-8 does (which is parsed when made and checked again when written: 1.4 against 0.7 µs for 1 KB), for
        /// about 0.8 KB more of allocation, and reading it back (<c>GetValue&lt;string&gt;</c>) makes no new string.
        /// </summary>
        /// With <see cref="RedactedValues.Utf8"/>, a long message text (<paramref name="message"/>: see <see cref="RedactedUtf8.Keys"/>)
        /// read from the request's UTF-8 (<paramref name="raw"/>) is put back as that UTF-8 with the placeholders in place
        /// (<see cref="RedactedUtf8"/>): no string of its size.
        public JsonValue? Hit(BoundaryScan scan, ReadOnlySpan<char> text, FieldPlace place, bool message, JsonElement element = default, ReadOnlySpan<byte> raw = default)
        {
            Record(scan, place);
            return scan.KeptCount == 0 ? null
                : redacted == RedactedValues.Utf8 && message && raw.Length >= RedactedUtf8.MinimumBytes
                    && RedactedUtf8.Create(element, raw, text.Length, scan.Findings!, policy) is { } written ? written
                : JsonValue.Create(policy.Redact(text, scan.Findings!));
        }

        /// <summary>Whether a property name holds a hit (<paramref name="scan"/>); a name too short for any detector is not scanned.</summary>
        public bool NameHit(ReadOnlySpan<char> name, out BoundaryScan scan)
        {
            scan = shortcuts && !MayHoldHit(name, policy) ? default : Scan(name);
            return !scan.IsClean;
        }

        /// <summary>A property name that holds a hit (<paramref name="scan"/>), redacted; null when nothing in it is to be replaced.</summary>
        public readonly string? RedactedName(BoundaryScan scan, string name) => scan.KeptCount == 0 ? null : policy.Redact(name, scan.Findings!);

        public void Uninspectable(string path) => (uninspectable ??= []).Add(path);

        /// <summary>
        /// The hits of <paramref name="scan"/> at <paramref name="path"/>. Its findings list is then the next scan's (read them
        /// before scanning again): copied into the hits, and into the redacted text made from them.
        /// </summary>
        public void Record(BoundaryScan scan, FieldPlace path)
        {
            var kept = scan.KeptCount;
            var timedOut = scan.TimedOut;
            var needed = hitCount + kept + (timedOut?.Count ?? 0);
            if (hits is null || hits.Length < needed)
            {
                var grown = ArrayPool<FieldHit>.Shared.Rent(Math.Max(needed, MinimumPooledHits));
                if (hits is not null)
                {
                    hits.AsSpan(0, hitCount).CopyTo(grown);
                    ReturnHits();
                }
                hits = grown;
            }
            for (var i = 0; i < kept; i++)
            {
                var f = scan.Findings![i];
                hits[hitCount++] = new FieldHit(path, new BoundaryHit(policy.DetectorName(f.Detector), policy.ActionOf(f.Detector), f.Start, f.Length));
                Count(f.Detector, blocks: false);
            }
            for (var i = 0; timedOut is not null && i < timedOut.Count; i++)
            {
                var d = timedOut[i];
                hits[hitCount++] = new FieldHit(path, new BoundaryHit(policy.DetectorName(d), BoundaryAction.Block, 0, 0) { Note = policy.TimedOutNote(d) });
                Count(d, blocks: true);
            }
            spare = scan.Findings ?? spare;
        }

        private void Count(int detector, bool blocks)
        {
            if (counts is null)
            {
                counts = ArrayPool<int>.Shared.Rent(2 * policy.DetectorCount);
                counts.AsSpan(0, 2 * policy.DetectorCount).Clear(); // a pooled array comes as it was left
            }
            counts[detector]++;
            counts[policy.DetectorCount + detector] |= blocks ? 1 : 0;
        }

        public ScrubResult Result()
        {
            if (hits is null && uninspectable is null && exceededBy is null)
            {
                return ScrubResult.Clean;
            }
            // Arrays of their exact sizes, counted first: no list to copy them from.
            var n = policy.DetectorCount;
            int detected = 0, blocked = 0;
            for (var d = 0; counts is not null && d < n; d++)
            {
                detected += counts[d] == 0 ? 0 : 1;
                blocked += counts[d] != 0 && ActionOf(d) == BoundaryAction.Block ? 1 : 0;
            }
            var ordered = detected == 0 ? [] : new DetectorCount[detected];
            var blockedBy = blocked == 0 ? [] : new string[blocked];
            detected = blocked = 0;
            for (var d = 0; counts is not null && d < n; d++)
            {
                if (counts[d] == 0)
                {
                    continue;
                }
                var action = ActionOf(d);
                ordered[detected++] = new DetectorCount(policy.DetectorName(d), action, counts[d]);
                if (action == BoundaryAction.Block)
                {
                    blockedBy[blocked++] = policy.DetectorName(d);
                }
            }
            FieldHit[] all = hits is null ? [] : hits[..hitCount];
            ReturnHits();
            if (counts is not null)
            {
                ArrayPool<int>.Shared.Return(counts);
                counts = null;
            }
            return new ScrubResult(all, blockedBy, ordered, uninspectable is null ? [] : [.. uninspectable], exceededBy);
        }

        /// <summary>The smallest pooled array the hits are gathered in: two fields of one hit each fit without a second.</summary>
        private const int MinimumPooledHits = 4;

        /// <summary>Gives the hits' pooled array back, cleared: its hits hold the body's nodes, which the pool must not keep alive.</summary>
        private void ReturnHits()
        {
            if (hits is not null)
            {
                ArrayPool<FieldHit>.Shared.Return(hits, clearArray: true);
                hits = null;
            }
        }

        /// <summary>What detector <paramref name="d"/>'s hits did: block when it timed out or ran out of budget, whatever it is set to.</summary>
        private BoundaryAction ActionOf(int d) => counts![policy.DetectorCount + d] != 0 ? BoundaryAction.Block : policy.ActionOf(d);
    }
}
