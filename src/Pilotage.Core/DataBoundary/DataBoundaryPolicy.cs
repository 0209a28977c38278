using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pilotage.Core.Specs;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// A system's data boundary, built once from its <see cref="DataBoundarySpec"/> and applied to the
/// text of every request. Immutable and thread-safe: one instance serves every concurrent request of
/// a policy snapshot. Only the detectors a spec names are built; a spec that names none gets
/// <see cref="None"/>, which returns every text untouched without looking at it.
/// </summary>
public sealed partial class DataBoundaryPolicy
{
    /// <summary>Built-in detector names; this order (most specific first) breaks ties between overlapping hits.</summary>
    public static IReadOnlyList<string> BuiltInDetectors => DetectorNames.BuiltIn;

    /// <summary>The policy of a system that declares no detectors.</summary>
    public static DataBoundaryPolicy None { get; } = new([], []);

    private readonly Detector[] detectors;
    private readonly BoundaryAction[] actions;
    private readonly string[] placeholders;
    private readonly byte[][] placeholdersUtf8;

    /// <summary>Per detector, what it needs of a text's profile (<see cref="DetectorNeeds.Of"/>); and all of them at once.</summary>
    private readonly ProfileNeeds[] needs;
    private readonly ProfileNeeds anyNeed;

    /// <summary>Per detector, whether it is a timed custom pattern, charged to the request's budget.</summary>
    private readonly bool[] timed;

    /// <summary>The overlap order (<see cref="CompareStrength"/>) as one delegate, made once: a sort never allocates one.</summary>
    private readonly Comparison<Finding> byStrength;

    private DataBoundaryPolicy(Detector[] detectors, BoundaryAction[] actions)
    {
        this.detectors = detectors;
        this.actions = actions;
        placeholders = Array.ConvertAll(detectors, d => "[REDACTED:" + d.Name + "]");
        // Escaped once here, then copied into JSON strings as they are (RedactedUtf8).
        placeholdersUtf8 = Array.ConvertAll(placeholders, p => JsonEncodedText.Encode(p).EncodedUtf8Bytes.ToArray());
        HasCustomDetectors = detectors.Any(d => d is CustomDetector);
        byStrength = CompareStrength;
        HasTimedPatterns = detectors.Any(d => d is CustomDetector { Timed: true });
        needs = Array.ConvertAll(detectors, DetectorNeeds.Of);
        anyNeed = needs.Aggregate(ProfileNeeds.None, (all, need) => all | need);
        timed = Array.ConvertAll(detectors, d => d is CustomDetector { Timed: true });
    }

    /// <summary>What the boundary does to answers (<c>dataBoundary.answers</c>); null when answers are not scanned.</summary>
    public AnswerBoundary? Answers { get; private init; }

    /// <summary>True when the policy has no detector: <see cref="Apply"/> then never scans.</summary>
    public bool IsEmpty => detectors.Length == 0;

    /// <summary>The active detectors and what each does, in tie-break order.</summary>
    public IReadOnlyList<(string Detector, BoundaryAction Action)> Rules =>
        detectors.Select((d, i) => (d.Name, actions[i])).ToArray();

    /// <summary>
    /// Builds the policy. Custom patterns that need the backtracking engine run with <paramref name="customTimeout"/>
    /// per match (default: the spec's documented bound, <see cref="SpecDocumentReader.DetectorTimeout"/>); the others
    /// run on the linear-time engine, with no timeout (see <see cref="PatternEngine"/>).
    /// </summary>
    /// <exception cref="ArgumentException">a name in block/redact is neither built in nor declared, or a pattern does not compile.</exception>
    public static DataBoundaryPolicy From(DataBoundarySpec spec, TimeSpan? customTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Block.Count == 0 && spec.Redact.Count == 0)
        {
            return None;
        }
        var timeout = customTimeout ?? SpecDocumentReader.DetectorTimeout;
        var custom = spec.Detectors.ToDictionary(d => d.Name, d => d.Pattern, StringComparer.Ordinal);
        foreach (var name in spec.Block.Concat(spec.Redact))
        {
            if (!BuiltInDetectors.Contains(name) && !custom.ContainsKey(name))
            {
                // The spec reader rejects this already; a policy never silently ignores a detector.
                throw new ArgumentException($"unknown data boundary detector '{name}'", nameof(spec));
            }
        }

        // Checksummed and declared detectors first, phone last: the order decides overlap ties.
        var names = new List<string>();
        names.AddRange(BuiltInDetectors.Where(n => n != Detector.Phone));
        names.AddRange(spec.Detectors.Select(d => d.Name));
        names.Add(Detector.Phone);

        var built = new List<Detector>();
        var builtActions = new List<BoundaryAction>();
        foreach (var name in names)
        {
            // Named in both lists blocks: the stricter reading of a contradictory spec.
            BoundaryAction action;
            if (spec.Block.Contains(name))
            {
                action = BoundaryAction.Block;
            }
            else if (spec.Redact.Contains(name))
            {
                action = BoundaryAction.Redact;
            }
            else
            {
                continue;
            }
            built.Add(name switch
            {
                Detector.CreditCard => new CreditCardDetector(),
                Detector.Iban => new IbanDetector(),
                Detector.Email => new EmailDetector(),
                Detector.Phone => new PhoneDetector(),
                Detector.Secret => new SecretDetector(),
                Detector.UsSsn => new UsSsnDetector(),
                Detector.UkNino => new UkNinoDetector(),
                Detector.EuVat => new EuVatDetector(),
                _ => new CustomDetector(name, CustomPattern.Of(custom[name]), timeout),
            });
            builtActions.Add(action);
        }
        var policy = new DataBoundaryPolicy([.. built], [.. builtActions]);
        return spec.Answers switch
        {
            AnswerBoundaryMode.Block => new DataBoundaryPolicy([.. built], [.. builtActions]) { Answers = new AnswerBoundary(policy, AnswerBoundaryMode.Block) },
            AnswerBoundaryMode.Redact => new DataBoundaryPolicy([.. built], [.. builtActions])
            {
                Answers = new AnswerBoundary(new DataBoundaryPolicy([.. built], Array.ConvertAll(builtActions.ToArray(), _ => BoundaryAction.Redact)), AnswerBoundaryMode.Redact),
            },
            _ => policy,
        };
    }

    /// <summary>
    /// Scans <paramref name="text"/> with every detector, resolves overlaps, and redacts every hit.
    /// A timed custom pattern that runs out of time counts as a blocking hit (fail closed): the policy
    /// cannot say the text is clean, nor where to redact.
    /// </summary>
    public BoundaryResult Apply(string text) => Apply(text, null);

    /// <summary>True when the spec declares custom patterns (which may match texts of any length).</summary>
    public bool HasCustomDetectors { get; }

    /// <summary>
    /// True when a custom pattern runs on the backtracking engine: only such patterns are bounded in time, so only they
    /// need a <see cref="BoundaryBudget"/>. Built-in detectors and linear patterns take time linear in the text.
    /// </summary>
    public bool HasTimedPatterns { get; }

    /// <summary>
    /// As <see cref="Apply(string)"/>, with the custom patterns charged to the request's <paramref name="budget"/>
    /// (none: each match is bounded by the per-match timeout only).
    /// </summary>
    /// <exception cref="BoundaryBudgetExceededException">the budget ran out: the caller refuses the request.</exception>
    public BoundaryResult Apply(string text, BoundaryBudget? budget)
    {
        ArgumentNullException.ThrowIfNull(text);
        var scan = Scan(text, budget);
        return scan.IsClean ? new BoundaryResult(text) : Resolve(text, scan);
    }

    /// <summary>As <see cref="Apply(string, BoundaryBudget?)"/>, on <paramref name="text"/> already normalised.</summary>
    internal BoundaryResult Apply(string text, in Normalized normal, BoundaryBudget? budget)
    {
        var scan = Scan(normal, budget);
        return scan.IsClean ? new BoundaryResult(text) : Resolve(text, scan);
    }

    /// <summary>
    /// The scan proper, on a span: the text normalised in pooled buffers, every detector over it, overlaps resolved,
    /// hits mapped back to the original. Allocates nothing for a clean text.
    /// </summary>
    internal BoundaryScan Scan(ReadOnlySpan<char> text, BoundaryBudget? budget) => Scan(text, budget, spare: null);

    /// <summary>
    /// As <see cref="Scan(ReadOnlySpan{char}, BoundaryBudget?)"/>, the findings gathered in <paramref name="spare"/> (cleared
    /// first) when given: a list an earlier scan of the same request returned and that nothing holds any more.
    /// </summary>
    internal BoundaryScan Scan(ReadOnlySpan<char> text, BoundaryBudget? budget, List<Finding>? spare)
    {
        if (detectors.Length == 0 || text.IsEmpty || NothingToFind(text))
        {
            return default;
        }
        using var normal = Normalized.Of(text);
        return Scan(normal, budget, shortcuts: true, spare);
    }

    /// <summary>As <see cref="Scan(ReadOnlySpan{char}, BoundaryBudget?, List{Finding}?)"/>, on plain ASCII text the request walk read with its digits marked (see <see cref="AsciiDigits.TryWidenAndMark"/>).</summary>
    internal BoundaryScan Scan(ReadOnlySpan<char> text, ReadOnlySpan<ulong> digits, int firstAt, BoundaryBudget? budget, List<Finding>? spare)
    {
        using var normal = Normalized.Of(text, digits, firstAt);
        return Scan(normal, budget, shortcuts: true, spare);
    }

    /// <summary>True when the policy has the secrets detector (the one built-in that needs neither a digit nor an '@').</summary>
    internal bool MayFindSecrets => (anyNeed & ProfileNeeds.SecretLength) != 0;

    /// <summary>Digits and '@': every built-in detector but the secrets needs one of them.</summary>
    private static readonly SearchValues<char> DigitsAndAt = SearchValues.Create("0123456789@");

    /// <summary>
    /// True for a short ASCII text with no digit and no '@' (a role, a key, a finish reason, most property names), which
    /// no built-in detector can match: each needs a digit or an '@', or, a secret, 20 characters. ASCII normalises to
    /// itself, give or take separators between digits, so what is not in the text is not in its normal form either.
    /// Custom patterns may match anything, so a policy with one always scans.
    /// </summary>
    private bool NothingToFind(ReadOnlySpan<char> text) =>
        !HasCustomDetectors && text.Length < SecretDetector.MinLength && !text.ContainsAny(DigitsAndAt) && Ascii.IsValid(text);

    private static readonly SearchValues<byte> DigitsAndAtUtf8 = SearchValues.Create("0123456789@"u8);

    /// <summary>
    /// <see cref="NothingToFind(ReadOnlySpan{char})"/> read from UTF-8 that is the text itself, one byte a character: the
    /// caller makes sure <paramref name="ascii"/> is plain ASCII with no JSON escape (a '\' could spell a digit or an '@').
    /// A JSON reader's string then needs no transcoding to be known clean.
    /// </summary>
    internal bool NothingToFind(ReadOnlySpan<byte> ascii) =>
        !HasCustomDetectors && ascii.Length < SecretDetector.MinLength && !ascii.ContainsAny(DigitsAndAtUtf8);

    /// <summary>As <see cref="Scan(ReadOnlySpan{char}, BoundaryBudget?)"/>, on text already normalised.</summary>
    internal BoundaryScan Scan(in Normalized normal, BoundaryBudget? budget) => Scan(normal, budget, shortcuts: true);

    /// <summary>
    /// The scan with none of its shortcuts: the full normalisation whatever the text (<see cref="Normalized.Full"/>) and
    /// every detector on every text, whatever the text's <see cref="TextProfile"/> says. What <see cref="Scan(ReadOnlySpan{char}, BoundaryBudget?)"/>
    /// must equal: tests compare the two, so that no shortcut ever loses a hit.
    /// </summary>
    internal BoundaryScan ScanWithoutShortcuts(ReadOnlySpan<char> text, BoundaryBudget? budget = null)
    {
        if (detectors.Length == 0 || text.IsEmpty)
        {
            return default;
        }
        using var normal = Normalized.Full(text);
        return Scan(normal, budget, shortcuts: false);
    }

    private BoundaryScan Scan(in Normalized normal, BoundaryBudget? budget, bool shortcuts, List<Finding>? spare = null)
    {
        var text = normal.Text;
        if (detectors.Length == 0 || normal.Original.IsEmpty)
        {
            return default;
        }
        var profile = normal.Profile;
        // What the text offers, against what each detector needs (one AND each, no call): the scan without shortcuts
        // runs every detector.
        var met = shortcuts ? profile.Met : ProfileNeeds.All;
        if ((met & anyNeed) == 0)
        {
            return default;
        }
        var findings = spare;
        findings?.Clear();
        List<int>? timedOut = null;
        // Built-in detectors run regexes too, with no timeout of their own, but a process-wide default
        // (REGEX_DEFAULT_MATCH_TIMEOUT) applies to them: any detector can time out, and one that does fails closed. One
        // try around the loop, resumed after the detector that timed out, as one try around each detector would.
        var i = 0;
        while (true)
        {
            try
            {
                for (; i < detectors.Length; i++)
                {
                    if ((needs[i] & met) != 0)
                    {
                        Find(i, text, ref findings, profile, budget, shortcuts);
                    }
                }
                break;
            }
            catch (RegexMatchTimeoutException)
            {
                (timedOut ??= []).Add(i++);
            }
        }
        if (findings is not { Count: > 0 } && timedOut is null)
        {
            return default;
        }
        var kept = KeepNonOverlapping(findings ?? [], out var weakLost, shortcuts);
        if (weakLost)
        {
            FillGaps(text, kept, met, shortcuts);
        }
        return new BoundaryScan(ToOriginal(normal, kept), timedOut);
    }

    /// <summary>Detector <paramref name="i"/> over <paramref name="text"/>, as the scan runs it.</summary>
    private void Find(int i, ReadOnlySpan<char> text, ref List<Finding>? findings, in TextProfile profile, BoundaryBudget? budget, bool shortcuts)
    {
        if (budget is not null && timed[i])
        {
            ((CustomDetector)detectors[i]).Find(text, i, ref findings, budget);
        }
        else if (shortcuts)
        {
            detectors[i].FindInProfiledText(text, i, ref findings, profile);
        }
        else
        {
            detectors[i].FindWithoutShortcuts(text, i, ref findings);
        }
    }

    /// <summary>
    /// A weak finding (a phone) that overlapped a stronger one was dropped whole, with the part of it outside: in
    /// "4111 1111 1111 1111 020 7946 0958" the phone reading "1111 020 7946 0958" lost to the card, and left the phone
    /// visible. The weak detectors read the text again with the stronger findings blanked out (a line break each
    /// character, which no number spans), and what they find there fills the gaps.
    /// Only texts where a weak finding reached outside a stronger one pay for it.
    /// </summary>
    private void FillGaps(ReadOnlySpan<char> text, List<Finding> kept, ProfileNeeds met, bool shortcuts)
    {
        var rented = ArrayPool<char>.Shared.Rent(text.Length);
        try
        {
            var blanked = rented.AsSpan(0, text.Length);
            text.CopyTo(blanked);
            foreach (var f in kept)
            {
                if (!detectors[f.Detector].Weak)
                {
                    blanked.Slice(f.Start, f.Length).Fill('\n');
                }
            }
            List<Finding>? more = null;
            for (var i = 0; i < detectors.Length; i++)
            {
                if (!detectors[i].Weak || (needs[i] & met) == 0)
                {
                    continue;
                }
                if (shortcuts)
                {
                    detectors[i].Find(blanked, i, ref more);
                }
                else
                {
                    detectors[i].FindWithoutShortcuts(blanked, i, ref more);
                }
            }
            foreach (var f in more ?? [])
            {
                // What is found there touches no stronger finding; a weak one it overlaps ("2025 020 7946" beside the
                // "2025 020 7946 0958" found again) is merged into it, so that neither loses its digits.
                var first = FirstStartingAtOrAfter(kept, f.Start);
                first -= first > 0 && kept[first - 1].End > f.Start ? 1 : 0;
                var last = first;
                var (start, end) = (f.Start, f.End);
                for (; last < kept.Count && kept[last].Start < end; last++)
                {
                    if (!detectors[kept[last].Detector].Weak)
                    {
                        break; // cannot happen (stronger findings are blanked out); never merged into one if it did
                    }
                    (start, end) = (Math.Min(start, kept[last].Start), Math.Max(end, kept[last].End));
                }
                if (last < kept.Count && kept[last].Start < end)
                {
                    continue;
                }
                kept.RemoveRange(first, last - first);
                kept.Insert(first, new Finding(f.Detector, start, end - start));
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>The longest span, in normalised characters, that any of this policy's detectors can match.</summary>
    internal int LongestMatch => detectors.Length == 0 ? 0 : detectors.Max(d => d.LongestMatch);

    /// <summary>Name of detector <paramref name="index"/> (an index of a <see cref="Finding"/>).</summary>
    internal string DetectorName(int index) => detectors[index].Name;

    /// <summary>Detector <paramref name="index"/>'s placeholder as the UTF-8 of a JSON string's content, escaped.</summary>
    internal byte[] PlaceholderUtf8(int index) => placeholdersUtf8[index];

    /// <summary>What detector <paramref name="index"/> does with its hits.</summary>
    internal BoundaryAction ActionOf(int index) => actions[index];

    /// <summary>How many detectors the policy runs; findings carry their index.</summary>
    internal int DetectorCount => detectors.Length;

    /// <summary>The index of the detector named <paramref name="name"/>, or -1.</summary>
    internal int IndexOf(string name) => Array.FindIndex(detectors, d => d.Name == name);

    /// <summary>The note of a hit for a detector that timed out: no span, and the text refused.</summary>
    internal string TimedOutNote(int index) => string.Create(CultureInfo.InvariantCulture,
        $"detector '{detectors[index].Name}' timed out; the text could not be checked, so it is refused");

    private BoundaryResult Resolve(string text, BoundaryScan scan)
    {
        var kept = scan.Findings;
        var keptCount = kept?.Count ?? 0;
        var timedOut = scan.TimedOut;
        var hits = new BoundaryHit[keptCount + (timedOut?.Count ?? 0)];
        // Per detector: its hits, then whether it blocks (timed out); on the stack, arrays of exact sizes only at the end.
        Span<int> counts = detectors.Length <= 64 ? stackalloc int[2 * detectors.Length] : new int[2 * detectors.Length];
        counts.Clear();
        var n = detectors.Length;
        for (var i = 0; i < keptCount; i++)
        {
            var f = kept![i];
            hits[i] = new BoundaryHit(detectors[f.Detector].Name, actions[f.Detector], f.Start, f.Length);
            counts[f.Detector]++;
        }
        for (var i = 0; timedOut is not null && i < timedOut.Count; i++)
        {
            var d = timedOut[i];
            hits[keptCount + i] = new BoundaryHit(detectors[d].Name, BoundaryAction.Block, 0, 0) { Note = TimedOutNote(d) };
            counts[d]++;
            counts[n + d] = 1;
        }
        int detected = 0, blocked = 0;
        for (var d = 0; d < n; d++)
        {
            detected += counts[d] == 0 ? 0 : 1;
            blocked += counts[d] != 0 && (counts[n + d] != 0 || actions[d] == BoundaryAction.Block) ? 1 : 0;
        }
        var perDetector = new DetectorCount[detected];
        var blockedBy = blocked == 0 ? [] : new string[blocked];
        detected = blocked = 0;
        for (var d = 0; d < n; d++)
        {
            if (counts[d] == 0)
            {
                continue;
            }
            var action = counts[n + d] != 0 ? BoundaryAction.Block : actions[d];
            perDetector[detected++] = new DetectorCount(detectors[d].Name, action, counts[d]);
            if (action == BoundaryAction.Block)
            {
                blockedBy[blocked++] = detectors[d].Name;
            }
        }
        return new BoundaryResult(keptCount == 0 ? text : Redact(text, kept!), hits, blockedBy, perDetector);
    }

    /// <summary>
    /// Findings in the original's coordinates. Two normalised characters can come from one original one (a
    /// ligature), so neighbouring findings may then share it: the later one is merged into the earlier.
    /// </summary>
    private static List<Finding> ToOriginal(in Normalized normal, List<Finding> kept)
    {
        if (normal.IsIdentity)
        {
            return kept;
        }
        // Mapped in place: the list is the scan's own, and a finding is never written before it is read.
        var all = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(kept);
        var written = 0;
        foreach (var f in all)
        {
            var (start, length) = normal.ToOriginal(f.Start, f.Length);
            if (written > 0 && all[written - 1].End > start)
            {
                var last = all[written - 1];
                all[written - 1] = last with { Length = Math.Max(last.End, start + length) - last.Start };
                continue;
            }
            all[written++] = new Finding(f.Detector, start, length);
        }
        kept.RemoveRange(written, kept.Count - written);
        return kept;
    }

    /// <summary><paramref name="text"/> with each kept finding replaced by its detector's placeholder, as one new string.</summary>
    internal string Redact(ReadOnlySpan<char> text, List<Finding> kept) =>
        // Written straight into the new string: no buffer to copy it from (a redacted message is kilobytes long).
        string.Create(RedactedLength(text, kept), new Redaction(this, text, kept), static (into, r) => r.Policy.Redact(r.Text, r.Kept, into));

    private readonly ref struct Redaction(DataBoundaryPolicy policy, ReadOnlySpan<char> text, List<Finding> kept)
    {
        public DataBoundaryPolicy Policy { get; } = policy;
        public ReadOnlySpan<char> Text { get; } = text;
        public List<Finding> Kept { get; } = kept;
    }

    /// <summary>The length of <paramref name="text"/> once the kept findings are replaced by their placeholders.</summary>
    internal int RedactedLength(ReadOnlySpan<char> text, List<Finding> kept)
    {
        var length = text.Length;
        foreach (var f in kept)
        {
            length += placeholders[f.Detector].Length - f.Length;
        }
        return length;
    }

    /// <summary>Writes <paramref name="text"/> with the kept findings replaced into <paramref name="into"/> (at least <see cref="RedactedLength"/> long).</summary>
    internal void Redact(ReadOnlySpan<char> text, List<Finding> kept, Span<char> into)
    {
        var from = 0;
        foreach (var f in kept)
        {
            text[from..f.Start].CopyTo(into);
            into = into[(f.Start - from)..];
            placeholders[f.Detector].CopyTo(into);
            into = into[placeholders[f.Detector].Length..];
            from = f.End;
        }
        text[from..].CopyTo(into);
    }

    public override string ToString() =>
        IsEmpty ? "no data boundary" : string.Join(", ", Rules.Select(r => $"{r.Action.ToString().ToLowerInvariant()} {r.Detector}"));
}

/// <summary>
/// What a scan found in one text, in the original's coordinates: the findings kept after overlaps were resolved (in
/// start order, never overlapping) and the detectors that timed out. The default is a clean text.
/// </summary>
internal readonly record struct BoundaryScan(List<Finding>? Findings, List<int>? TimedOut)
{
    public bool IsClean => Findings is not { Count: > 0 } && TimedOut is null;

    /// <summary>How many findings are kept (to be redacted), with no list made for none.</summary>
    public int KeptCount => Findings?.Count ?? 0;

    public List<Finding> Kept => Findings ?? [];
}
