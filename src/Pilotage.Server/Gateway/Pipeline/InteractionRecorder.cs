using System.Buffers;
using System.Collections.Frozen;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Evidence;
using Pilotage.Core.Gateway;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;
using Pilotage.Server.Evidence;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>
/// The gateway's one writer of evidence: every outcome (served, held, shadowed, refused, failed) becomes one
/// <see cref="InteractionRow"/> here, with the metrics and trace tags that go with it.
/// </summary>
internal sealed class InteractionRecorder(EvidenceWriter evidence, PolicyCache policy, BudgetLedger budget, GatewayMetrics metrics, ILogger<InteractionRecorder> logger)
{
    /// <summary>
    /// Durable mode: appends the record and returns only once it committed (async mode: once queued). Returns the
    /// refusal to send instead of the answer when the store cannot take it: no record, no answer.
    /// </summary>
    public async Task<GatewayRefusal?> CommitAsync(Subject subject, Exchange exchange, InteractionOutcome outcome, GatewayRefusal? refusal = null, EvidenceHold? hold = null)
    {
        var record = Row(subject, exchange, outcome, refusal);
        var durability = subject.Spec.Evidence.Durability == Core.Specs.EvidenceDurability.Async
            ? Evidence.EvidenceDurability.Async
            : Evidence.EvidenceDurability.Durable;
        try
        {
            await evidence.AppendAsync(record, durability, StoreOutagePolicy.For(subject.Spec), hold, CancellationToken.None);
        }
        catch (EvidenceUnavailableException e)
        {
            GatewayTracing.Failed("evidence_unavailable");
            return new GatewayRefusal(503, "evidence_unavailable",
                $"the answer from '{subject.Spec.Name}' was withheld because its evidence record could not be stored ({e.Message}); Pilotage releases no answer without its record. Try again shortly.");
        }
        GatewayTracing.Record(record, subject.System);
        if (record.Cost > 0) budget.Add(record.System, record.UserId, record.CreatedAt, record.Cost);
        if (outcome == InteractionOutcome.Served)
        {
            metrics.Served(subject.Slug!, subject.Mode, subject.Arrival.Endpoint, exchange.TokensIn, exchange.TokensOut, subject.Arrival.ElapsedMs / 1000.0, subject.Spec.Upstream.Model);
        }
        return null;
    }

    /// <summary>Records a stage's refusal as its kind asks (and counts it); nothing is released, so a store failure is only logged.</summary>
    public async Task RefusedAsync(Subject subject, Exchange exchange, Refusal refusal)
    {
        switch (refusal.Record)
        {
            case RefusalRecord.None:
                return;
            case RefusalRecord.Refused:
                metrics.Refused(refusal.Error.Code, subject.Slug);
                // A refusal is evidence too, but it releases no answer: it need not wait for the commit.
                await RecordOnlyAsync(Row(subject, exchange, InteractionOutcome.Refused, refusal.Error), Evidence.EvidenceDurability.Async);
                return;
            case RefusalRecord.RefusedAfterAnswer:
                metrics.Refused(refusal.Error.Code, subject.Slug);
                await RecordOnlyAsync(Row(subject, exchange, InteractionOutcome.Refused, refusal.Error));
                return;
            case RefusalRecord.Failed:
                metrics.Failed(subject.Slug, refusal.Error.Code);
                await RecordOnlyAsync(Row(subject, exchange, InteractionOutcome.Failed, refusal.Error, refusal.Detail));
                return;
            default:
                await RecordOnlyAsync(Row(subject, exchange, InteractionOutcome.Failed, error: refusal.Detail));
                return;
        }
    }

    private async Task RecordOnlyAsync(InteractionRow record, Evidence.EvidenceDurability durability = Evidence.EvidenceDurability.Durable)
    {
        GatewayTracing.Record(record, policy.Current.Systems.GetValueOrDefault(record.System));
        try
        {
            var system = policy.Current.Systems.GetValueOrDefault(record.System);
            await evidence.AppendAsync(record, durability, system is null ? StoreOutage.FailClosed : StoreOutagePolicy.For(system.State.Spec), CancellationToken.None);
        }
        catch (EvidenceUnavailableException e)
        {
            logger.LogError("Evidence for interaction {Id} ({Outcome}) could not be stored: {Reason}", record.Id, record.Outcome, e.Message);
        }
    }

    /// <summary>The evidence record of a request: who, which system at which stage, what the boundary found, what was sent and answered.</summary>
    public static InteractionRow Row(Subject subject, Exchange exchange, InteractionOutcome outcome, GatewayRefusal? refusal = null, string? error = null)
    {
        var state = subject.System?.State;
        var keep = state?.Spec.Evidence.Content != ContentRetention.Hashes;
        var upstream = state?.Spec.Upstream;
        var row = new InteractionRow
        {
            Id = subject.Id,
            CreatedAt = subject.Arrival.At,
            System = state?.Slug ?? "",
            Phase = state is null ? "" : PhaseWire(state.Lifecycle.Phase),
            Stage = state?.Lifecycle.Stage ?? 0,
            ConfigVersion = state?.ConfigVersion ?? 0,
            UserId = subject.Key.User.Id,
            UserEmail = subject.Key.User.Email,
            KeyId = subject.Key.Id,
            Groups = subject.Key.GroupsJson,
            Endpoint = subject.Arrival.Endpoint,
            Mode = subject.Mode,
            Outcome = outcome.Name(),
            RefusalCode = refusal?.Code,
            RefusalReason = refusal?.Message,
            DetectorHits = exchange.DetectorHits,
            Streamed = exchange.Streamed,
            TokensIn = exchange.TokensIn,
            TokensOut = exchange.TokensOut,
            Cost = upstream is null ? 0m : (exchange.TokensIn * upstream.PricePer1kInput + exchange.TokensOut * upstream.PricePer1kOutput) / 1000m,
            FirstByteMs = exchange.FirstByteMs,
            TotalMs = subject.Arrival.ElapsedMs,
            UpstreamStatus = exchange.UpstreamStatus,
            RequestHash = exchange.Sent is { } bytes ? HashOf(bytes) : null,
            ResponseHash = exchange.ResponseBytes is { } received ? HashOf(received) : Hash(exchange.ResponseText),
            Error = error,
            Category = subject.Eval?.Category,
            EvalRun = subject.Eval?.Run,
            EvalCase = subject.Eval?.Case,
        };
        if (keep)
        {
            // Kept as the bytes sent and received: the store takes UTF-8, so a string of them would be made only to be
            // encoded back (see InteractionRow.SetRequestContent).
            if (exchange.Sent is { } sent) row.SetRequestContent(sent);
            if (exchange.ResponseBytes is { } answer) row.SetResponseContent(answer);
            else row.ResponseContent = exchange.ResponseText;
        }
        return row;
    }

    /// <summary>The phase as stored (the enum name in lower case), without two new strings per record.</summary>
    private static string PhaseWire(LifecyclePhase phase) => phase switch
    {
        LifecyclePhase.Proposed => "proposed",
        LifecyclePhase.Pilot => "pilot",
        LifecyclePhase.Decided => "decided",
        LifecyclePhase.Rollout => "rollout",
        LifecyclePhase.Production => "production",
        LifecyclePhase.Paused => "paused",
        LifecyclePhase.Restricted => "restricted",
        LifecyclePhase.Retired => "retired",
        _ => phase.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// What the boundary found, by detector: counts and actions only, never the values. Spelled straight into the string
    /// (every redacted request has one): the same JSON a JSON writer writes, without the writer and its buffer. A detector
    /// name the spec would refuse (one that JSON escapes) goes through the writer instead.
    /// </summary>
    internal static string? DetectorHits(ScrubResult? boundary)
    {
        if (boundary is null || (boundary.Counts.Count == 0 && boundary.Uninspectable.Count == 0)) return null;
        var counts = boundary.Counts;
        if (counts is [var one] && boundary.Uninspectable.Count == 0 && one.Count <= SpelledCounts && OneBuiltIn.TryGetValue(one.Detector, out var spelled))
        {
            return spelled[2 * (one.Count - 1) + (one.Action == BoundaryAction.Block ? 1 : 0)];
        }
        for (var i = 0; i < counts.Count; i++)
        {
            if (!PlainName(counts[i].Detector)) return WrittenDetectorHits(boundary);
        }
        return Spell(counts, boundary.Uninspectable.Count);
    }

    /// <summary>The most hits of one detector whose record is spelled in advance (<see cref="OneBuiltIn"/>).</summary>
    internal const int SpelledCounts = 8;

    /// <summary>
    /// The records of a request whose hits are all of one built-in detector, at most <see cref="SpelledCounts"/> of them (a
    /// message with an address or two: nearly every redacted request), spelled once: per detector, for each count the
    /// record with "redact", then with "block". Immutable; a redacted request then spells no string of its own.
    /// </summary>
    private static readonly FrozenDictionary<string, string[]> OneBuiltIn = DataBoundaryPolicy.BuiltInDetectors.ToFrozenDictionary(
        name => name,
        name => Enumerable.Range(1, SpelledCounts).SelectMany(count => new[] { BoundaryAction.Redact, BoundaryAction.Block }
            .Select(action => Spell([new DetectorCount(name, action, count)], 0))).ToArray(),
        StringComparer.Ordinal);

    /// <summary>The record of <paramref name="counts"/> (names a JSON writer writes as they are) and the uninspectable inputs.</summary>
    private static string Spell(IReadOnlyList<DetectorCount> counts, int uninspectable)
    {
        var text = new DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture, stackalloc char[256]);
        text.AppendLiteral("{");
        for (var i = 0; i < counts.Count; i++)
        {
            if (i > 0) text.AppendLiteral(",");
            text.AppendLiteral("\"");
            text.AppendFormatted(counts[i].Detector);
            text.AppendLiteral("\":{\"count\":");
            text.AppendFormatted(counts[i].Count);
            text.AppendLiteral(counts[i].Action == BoundaryAction.Block ? ",\"action\":\"block\"}" : ",\"action\":\"redact\"}");
        }
        if (uninspectable > 0)
        {
            text.AppendLiteral(counts.Count > 0 ? ",\"uninspectable\":" : "\"uninspectable\":");
            text.AppendFormatted(uninspectable);
        }
        text.AppendLiteral("}");
        return text.ToStringAndClear();
    }

    /// <summary>Letters, digits, '_' and '-': what a JSON writer writes as it is (a spec's names are lower-case letters, digits and '_').</summary>
    private static bool PlainName(string name) => name.Length > 0 && !name.AsSpan().ContainsAnyExcept(PlainNameCharacters);

    private static readonly SearchValues<char> PlainNameCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

    /// <summary><see cref="DetectorHits"/> through a JSON writer, which escapes what a name needs escaped.</summary>
    internal static string WrittenDetectorHits(ScrubResult boundary)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var count in boundary.Counts)
            {
                json.WriteStartObject(count.Detector);
                json.WriteNumber("count"u8, count.Count);
                json.WriteString("action"u8, count.Action == BoundaryAction.Block ? "block"u8 : "redact"u8);
                json.WriteEndObject();
            }
            if (boundary.Uninspectable.Count > 0) json.WriteNumber("uninspectable"u8, boundary.Uninspectable.Count);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The SHA-256 of bytes, in lower-case hex: the hash itself stays on the stack.</summary>
    private static string HashOf(ReadOnlySpan<byte> bytes)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// The SHA-256 of a text's UTF-8, encoded into a buffer rented from the shared pool: every streamed answer is hashed
    /// here when it ends, and its bytes are needed only for the hash.
    /// </summary>
    private static string? Hash(string? text)
    {
        if (text is null) return null;
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(text, rented);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(rented.AsSpan(0, length), hash);
            return Convert.ToHexStringLower(hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
