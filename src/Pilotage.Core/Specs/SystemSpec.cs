using System.Text.Json.Serialization;

namespace Pilotage.Core.Specs;

/// <summary>
/// One AI system as declared in a <c>pilotage/v1 AiSystem</c> document. Immutable: a change is a
/// new spec, compared with the stored one through its canonical JSON (<see cref="SpecCanonicalJson"/>).
/// </summary>
public sealed record SystemSpec
{
    /// <summary>metadata.name: the slug clients send as <c>model</c>.</summary>
    public required string Name { get; init; }
    /// <summary>metadata.title: a human title; defaults to the slug.</summary>
    public string? Title { get; init; }
    public required string Owner { get; init; }
    public required string Purpose { get; init; }
    public RiskTier Risk { get; init; } = RiskTier.Medium;
    public required UpstreamSpec Upstream { get; init; }
    public ConfigSpec Config { get; init; } = new();
    public DataBoundarySpec DataBoundary { get; init; } = new();
    public TrainingSpec Training { get; init; } = new();
    public ReviewSpec Review { get; init; } = new();
    public BaselineSpec Baseline { get; init; } = new();
    public PilotSpec? Pilot { get; init; }
    public IReadOnlyList<RolloutStageSpec> Rollout { get; init; } = [];
    public IReadOnlyList<PauseRuleSpec> PauseRules { get; init; } = [];
    public ToolsSpec Tools { get; init; } = new();
    public LimitsSpec Limits { get; init; } = new();
    public EvidenceSpec Evidence { get; init; } = new();
    /// <summary>How config and upstream changes are checked once the system is past its pilot (docs/change-control.md).</summary>
    public ChangeControlSpec ChangeControl { get; init; } = new();
}

[JsonConverter(typeof(JsonStringEnumConverter<RiskTier>))]
public enum RiskTier { Low, Medium, High }

/// <summary>How the gateway serves a group: see design.md, "Modes".</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ServingMode>))]
public enum ServingMode { Full, Draft, Approval, ReadOnly, Shadow }

/// <summary>The outcome a failing pilot criterion asks for, in increasing severity.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PilotOutcome>))]
public enum PilotOutcome { Proceed, Narrow, Repilot, Redesign, Stop }

/// <summary>The nine things a pilot can be testing (seed, step 1).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PilotQuestion>))]
public enum PilotQuestion { Value, Quality, WorkflowFit, Adoption, DataReadiness, ReviewBurden, Risk, Cost, SupportNeeds }

[JsonConverter(typeof(JsonStringEnumConverter<PauseAction>))]
public enum PauseAction { Pause, Restrict, Rollback, Notify }

/// <summary>How answers are held in approval mode.</summary>
public sealed record ApprovalSpec
{
    /// <summary>How long the gateway holds the request open for the reviewer's decision; null: it answers at once with a held notice.</summary>
    public TimeSpan? Wait { get; init; }
}

/// <summary>The protocol an upstream speaks (<c>upstream.protocol</c>); the gateway translates when clients speak another.</summary>
[JsonConverter(typeof(UpstreamProtocolConverter))]
public enum UpstreamProtocol { OpenAiChat, OpenAiResponses, Anthropic }

public sealed record UpstreamSpec
{
    public required string BaseUrl { get; init; }
    /// <summary>The upstream's API: OpenAI chat completions (the default), the OpenAI Responses API, or Anthropic Messages.</summary>
    public UpstreamProtocol Protocol { get; init; } = UpstreamProtocol.OpenAiChat;
    public required string Model { get; init; }
    /// <summary>Name of the environment variable holding the upstream key; the secret itself never enters a spec.</summary>
    public string? ApiKeyEnv { get; init; }
    public decimal PricePer1kInput { get; init; }
    public decimal PricePer1kOutput { get; init; }
    /// <summary>Longest wait for the upstream's first byte; null: the server default (30 s).</summary>
    public int? FirstByteTimeoutSeconds { get; init; }
    /// <summary>Longest a whole upstream call may take; null: the server default (120 s).</summary>
    public int? TimeoutSeconds { get; init; }
}

/// <summary>Tools the model may be offered; side-effecting ones are removed in read-only mode.</summary>
public sealed record ToolsSpec
{
    public IReadOnlyList<string> SideEffecting { get; init; } = [];
}

/// <summary>Spending and rate limits the gateway enforces (429 when reached). Null: no limit.</summary>
public sealed record LimitsSpec
{
    public int? RequestsPerMinutePerKey { get; init; }
    public decimal? CostPerDay { get; init; }
    public decimal? CostPerMonth { get; init; }
    public decimal? CostPerUserPerDay { get; init; }
    public decimal? CostPerUserPerMonth { get; init; }
}

[JsonConverter(typeof(JsonStringEnumConverter<EvidenceDurability>))]
public enum EvidenceDurability
{
    /// <summary>An answer is released only after its evidence record is committed.</summary>
    Durable,
    /// <summary>Answers go out while their records are queued for the next commit: faster, and a crash can lose the last few.</summary>
    Async,
}

[JsonConverter(typeof(JsonStringEnumConverter<ContentRetention>))]
public enum ContentRetention
{
    /// <summary>Prompts and answers are stored with the evidence.</summary>
    Full,
    /// <summary>Only SHA-256 hashes of prompts and answers are stored.</summary>
    Hashes,
}

/// <summary>What the gateway does with an answer whose evidence store cannot be reached (issue 8: <c>onStoreOutage</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<StoreOutage>))]
public enum StoreOutage
{
    /// <summary>No record, no answer: the caller gets 503 <c>evidence_unavailable</c>.</summary>
    FailClosed,
    /// <summary>The record is appended to the server's local spool file (fsynced) and replayed into the store when it is back.</summary>
    Spool,
}

/// <summary>How evidence is written and what of the content it keeps.</summary>
public sealed record EvidenceSpec
{
    public EvidenceDurability Durability { get; init; }
    public ContentRetention Content { get; init; }
    /// <summary>Null: the risk-based default (<see cref="StoreOutagePolicy.For"/>); kept null so specs that do not say stay byte-identical.</summary>
    public StoreOutage? OnStoreOutage { get; init; }
    /// <summary>
    /// Days raw prompts, answers and review texts are kept; after that a purge blanks them and keeps
    /// hashes, figures and review outcomes. Null: kept until the system is retired or purged by hand.
    /// </summary>
    public int? ContentDays { get; init; }
}

/// <summary>The effective <c>onStoreOutage</c> of a system.</summary>
public static class StoreOutagePolicy
{
    /// <summary>What the spec says, else <c>fail_closed</c> for <c>high</c> risk and <c>spool</c> otherwise.</summary>
    public static StoreOutage For(SystemSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Evidence.OnStoreOutage ?? (spec.Risk == RiskTier.High ? StoreOutage.FailClosed : StoreOutage.Spool);
    }
}

/// <summary>Change control past the pilot: a config or upstream change is a change request (docs/change-control.md).</summary>
public sealed record ChangeControlSpec
{
    /// <summary>Re-run a test set on the candidate configuration before a change request may be applied.</summary>
    public RegressionGateSpec? RegressionGate { get; init; }
}

/// <summary>
/// A change request is refused when the candidate's <c>pass_rate</c> on <see cref="TestSet"/> is lower
/// than the configuration in force by more than <see cref="MaxPassRateDrop"/> (0.05 = five points).
/// </summary>
public sealed record RegressionGateSpec
{
    /// <summary>The test set's name (its <c>name:</c>), as <c>pilotage eval</c> records it.</summary>
    public required string TestSet { get; init; }
    public double MaxPassRateDrop { get; init; }
}

/// <summary>The versioned model configuration: under change control once a system is past its pilot.</summary>
public sealed record ConfigSpec
{
    public string? SystemPrompt { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public int? MaxTokens { get; init; }
}

public sealed record DataBoundarySpec
{
    /// <summary>Detectors whose hit refuses the request (422, nothing sent upstream).</summary>
    public IReadOnlyList<string> Block { get; init; } = [];
    /// <summary>Detectors whose hits are replaced by a typed placeholder before sending.</summary>
    public IReadOnlyList<string> Redact { get; init; } = [];
    /// <summary>Custom regex detectors, usable by name in <see cref="Block"/> and <see cref="Redact"/>.</summary>
    public IReadOnlyList<CustomDetectorSpec> Detectors { get; init; } = [];
    /// <summary>What the boundary does to the model's answers; null: answers are not scanned.</summary>
    public AnswerBoundaryMode? Answers { get; init; }
}

/// <summary>How <c>dataBoundary.answers</c> applies the boundary to what the model returns.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AnswerBoundaryMode>))]
public enum AnswerBoundaryMode
{
    /// <summary>Every hit of every listed detector is replaced by its placeholder; the answer always goes out.</summary>
    Redact,
    /// <summary>As for requests: a hit of a <c>block</c> detector withholds the answer, <c>redact</c> hits are replaced.</summary>
    Block,
}

public sealed record CustomDetectorSpec
{
    public required string Name { get; init; }
    public required string Pattern { get; init; }
}

public sealed record TrainingSpec
{
    public bool Required { get; init; }
    public string? Text { get; init; }
}

public sealed record ReviewSpec
{
    /// <summary>Groups whose members review this system's answers.</summary>
    public IReadOnlyList<string> Reviewers { get; init; } = [];
    public int? MinutesPerDay { get; init; }
    public double? SlaHours { get; init; }
    /// <summary>Cost of an hour of review labour, so the hidden cost of review shows in cost figures.</summary>
    public decimal? HourlyRate { get; init; }
}

public sealed record BaselineSpec
{
    public double? ManualMinutesPerTask { get; init; }
}

public sealed record PilotSpec
{
    public IReadOnlyList<PilotQuestion> Questions { get; init; } = [];
    public required string Group { get; init; }
    public ServingMode Mode { get; init; } = ServingMode.Draft;
    /// <summary>With <c>mode: approval</c>: how the gateway holds answers for review.</summary>
    public ApprovalSpec? Approval { get; init; }
    public required DateOnly Ends { get; init; }
    /// <summary>The end as written when it was relative to the day of apply (<c>+90d</c>); <see cref="Ends"/> is the date it resolved to. Null for a written date.</summary>
    public string? EndsRelative { get; init; }
    public int MinSamples { get; init; }
    public IReadOnlyList<CriterionSpec> Criteria { get; init; } = [];
}

/// <summary>A metric threshold. In a pilot, <see cref="Else"/> names the outcome when it fails; in a gate it is unused.</summary>
public sealed record CriterionSpec
{
    public required string Metric { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
    public PilotOutcome? Else { get; init; }
    /// <summary><c>point</c> (default), <c>lower</c> or <c>upper</c>: which figure of a rate's 95 % Wilson interval is tested.</summary>
    public string? Confidence { get; init; }
}

public sealed record RolloutStageSpec
{
    public required string Name { get; init; }
    public IReadOnlyList<string> Groups { get; init; } = [];
    public ServingMode Mode { get; init; } = ServingMode.Full;
    /// <summary>With <c>mode: approval</c>: how the gateway holds answers for review.</summary>
    public ApprovalSpec? Approval { get; init; }
    public int? MinDays { get; init; }
    public int? MinSamples { get; init; }
    public IReadOnlyList<CriterionSpec> Gate { get; init; } = [];
}

public sealed record PauseRuleSpec
{
    public required string Metric { get; init; }
    /// <summary>Count window: the last N samples.</summary>
    public int? Over { get; init; }
    /// <summary>Time window, e.g. <c>1h</c>, <c>30m</c>, <c>1d</c>.</summary>
    public string? Window { get; init; }
    public double? Above { get; init; }
    public double? Below { get; init; }
    public PauseAction Action { get; init; } = PauseAction.Pause;
    /// <summary>For <c>restrict</c>: a stricter mode (e.g. <c>approval</c>) or an earlier stage name.</summary>
    public string? To { get; init; }
}
