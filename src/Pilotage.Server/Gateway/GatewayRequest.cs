using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Gateway;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;
using Pilotage.Server.Storage;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway;

/// <summary>
/// One request through the gateway: who sent it, to which system, what was decided, and the
/// evidence record it becomes. Built as the pipeline goes; turned into an <see cref="InteractionRow"/> once.
/// </summary>
internal sealed class GatewayRequest
{
    private readonly long _started = Stopwatch.GetTimestamp();

    public GatewayRequest(string endpoint, DateTimeOffset at, string id)
    {
        Endpoint = endpoint;
        At = at;
        Id = id;
    }

    public string Id { get; }
    public string Endpoint { get; }
    public DateTimeOffset At { get; }
    public KeyGrant? Key { get; set; }
    public GatewaySystem? System { get; set; }
    public ServingScope? Scope { get; set; }
    public string Mode => Scope?.Mode.ToWire() ?? "none";
    public ScrubResult? Boundary { get; set; }
    public bool Streamed { get; set; }
    public int TokensIn { get; set; }
    public int TokensOut { get; set; }
    public double? FirstByteMs { get; set; }
    public int? UpstreamStatus { get; set; }
    public string? RequestText { get; set; }
    /// <summary>The body sent upstream, serialised once as UTF-8.</summary>
    public byte[]? RequestBytes { get; private set; }

    public void SetRequest(JsonNode body)
    {
        RequestBytes = JsonSerializer.SerializeToUtf8Bytes(body, GatewayJsonContext.Default.JsonNode);
        RequestText = Encoding.UTF8.GetString(RequestBytes);
    }
    public string? ResponseText
    {
        get => _responseText;
        set
        {
            _responseText = value;
            _responseBytes = null;
        }
    }

    private string? _responseText;
    /// <summary>The answer's bytes as received, kept only when they are valid UTF-8 (so they hash exactly like <see cref="ResponseText"/>).</summary>
    private byte[]? _responseBytes;

    /// <summary>The answer as received: its text for the evidence, and its bytes to hash without encoding the text again.</summary>
    public void SetResponse(byte[] bytes)
    {
        ResponseText = Encoding.UTF8.GetString(bytes);
        // Valid UTF-8 decodes and re-encodes to the same bytes, so their hash is the text's hash.
        if (global::System.Text.Unicode.Utf8.IsValid(bytes)) _responseBytes = bytes;
    }
    /// <summary>Set when the request is a test case of an evaluation run (header <c>x-pilotage-eval</c>).</summary>
    public long? EvalRun { get; set; }
    public string? EvalCase { get; set; }
    public string? Category { get; set; }

    public double ElapsedMs => Stopwatch.GetElapsedTime(_started).TotalMilliseconds;

    public void MarkFirstByte() => FirstByteMs ??= ElapsedMs;

    public decimal Cost
    {
        get
        {
            var upstream = System?.State.Spec.Upstream;
            return upstream is null ? 0m : (TokensIn * upstream.PricePer1kInput + TokensOut * upstream.PricePer1kOutput) / 1000m;
        }
    }

    public InteractionRow ToRecord(string outcome, GatewayRefusal? refusal = null, string? error = null)
    {
        var state = System?.State;
        var keep = state?.Spec.Evidence.Content != ContentRetention.Hashes;
        return new InteractionRow
        {
            Id = Id,
            CreatedAt = At,
            System = state?.Slug ?? "",
            Phase = state is null ? "" : PhaseWire(state.Lifecycle.Phase),
            Stage = state?.Lifecycle.Stage ?? 0,
            ConfigVersion = state?.ConfigVersion ?? 0,
            UserId = Key?.User.Id ?? 0,
            UserEmail = Key?.User.Email ?? "",
            KeyId = Key?.Id ?? "",
            Groups = Key?.GroupsJson ?? "[]",
            Endpoint = Endpoint,
            Mode = Mode,
            Outcome = outcome,
            RefusalCode = refusal?.Code,
            RefusalReason = refusal?.Message,
            DetectorHits = DetectorHits(),
            Streamed = Streamed,
            TokensIn = TokensIn,
            TokensOut = TokensOut,
            Cost = Cost,
            FirstByteMs = FirstByteMs,
            TotalMs = ElapsedMs,
            UpstreamStatus = UpstreamStatus,
            RequestHash = RequestBytes is { } sent ? Convert.ToHexStringLower(SHA256.HashData(sent)) : Hash(RequestText),
            ResponseHash = _responseBytes is { } received ? Convert.ToHexStringLower(SHA256.HashData(received)) : Hash(ResponseText),
            RequestContent = keep ? RequestText : null,
            ResponseContent = keep ? ResponseText : null,
            Error = error,
            Category = Category,
            EvalRun = EvalRun,
            EvalCase = EvalCase,
        };
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

    /// <summary>What the boundary found, by detector: counts and actions only, never the values.</summary>
    private string? DetectorHits()
    {
        if (Boundary is not { } boundary || (boundary.Counts.Count == 0 && boundary.Uninspectable.Count == 0)) return null;
        var node = new JsonObject();
        foreach (var count in boundary.Counts)
        {
            node[count.Detector] = new JsonObject { ["count"] = count.Count, ["action"] = count.Action == BoundaryAction.Block ? "block" : "redact" };
        }
        if (boundary.Uninspectable.Count > 0) node["uninspectable"] = boundary.Uninspectable.Count;
        return node.ToJsonString();
    }

    private static string? Hash(string? text) =>
        text is null ? null : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

internal static class ServingModeWire
{
    public static string ToWire(this ServingMode mode) => mode switch
    {
        ServingMode.Full => "full",
        ServingMode.Draft => "draft",
        ServingMode.Approval => "approval",
        ServingMode.ReadOnly => "read_only",
        _ => "shadow",
    };
}
