using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Pilotage.Core.Metrics;

namespace Pilotage.Core.Specs;

/// <summary>
/// Validates one YAML document against the <c>AiSystem</c> schema and builds the <see cref="SystemSpec"/>.
/// Every check reports and carries on, so one pass finds every problem; the spec is built only when
/// the document produced no error.
/// </summary>
internal sealed partial class SpecDocumentReader(SpecReadSession session, string source) : YamlFieldReader
{
    public const string ApiVersion = "pilotage/v1";
    public const string Kind = "AiSystem";

    /// <summary>Detectors the gateway ships with; custom ones are declared in <c>dataBoundary.detectors</c>.</summary>
    public static IReadOnlyList<string> BuiltInDetectors => Specs.DetectorNames.BuiltIn;

    private static readonly ImmutableArray<string> Confidences = ["point", "lower", "upper"];

    private static readonly ImmutableArray<string> RootKeys = ["apiVersion", "kind", "metadata", "spec"];
    private static readonly ImmutableArray<string> MetadataKeys = ["name", "title"];
    private static readonly ImmutableArray<string> SpecKeys =
        ["owner", "purpose", "risk", "upstream", "config", "dataBoundary", "training", "review", "baseline", "pilot", "rollout", "pauseRules", "tools", "limits", "evidence", "changeControl"];
    private static readonly ImmutableArray<string> UpstreamKeys = ["baseUrl", "protocol", "model", "apiKeyEnv", "pricePer1kInput", "pricePer1kOutput", "firstByteTimeoutSeconds", "timeoutSeconds"];
    private static readonly ImmutableArray<string> ToolsKeys = ["sideEffecting"];
    private static readonly ImmutableArray<string> LimitsKeys = ["requestsPerMinutePerKey", "costPerDay", "costPerMonth", "costPerUserPerDay", "costPerUserPerMonth"];
    private static readonly ImmutableArray<string> EvidenceKeys = ["durability", "content", "onStoreOutage", "contentDays"];
    private static readonly ImmutableArray<string> ChangeControlKeys = ["regressionGate"];
    private static readonly ImmutableArray<string> RegressionGateKeys = ["testSet", "maxPassRateDrop"];
    private static readonly ImmutableArray<string> ConfigKeys = ["systemPrompt", "temperature", "topP", "maxTokens"];
    private static readonly ImmutableArray<string> DataBoundaryKeys = ["block", "redact", "detectors", "answers"];
    private static readonly ImmutableArray<string> DetectorKeys = ["name", "pattern"];
    private static readonly ImmutableArray<string> TrainingKeys = ["required", "text"];
    private static readonly ImmutableArray<string> ReviewKeys = ["reviewers", "minutesPerDay", "slaHours", "hourlyRate"];
    private static readonly ImmutableArray<string> BaselineKeys = ["manualMinutesPerTask"];
    private static readonly ImmutableArray<string> PilotKeys = ["questions", "group", "mode", "approval", "ends", "minSamples", "criteria"];
    private static readonly ImmutableArray<string> CriterionKeys = ["metric", "min", "max", "else", "confidence"];
    private static readonly ImmutableArray<string> StageKeys = ["name", "groups", "mode", "approval", "minDays", "minSamples", "gate"];
    private static readonly ImmutableArray<string> PauseRuleKeys = ["metric", "over", "window", "above", "below", "action", "to"];

    /// <summary>Compiling a custom pattern never runs it, but the gateway will: give it the same bound.</summary>
    public static readonly TimeSpan DetectorTimeout = TimeSpan.FromMilliseconds(100);

    [GeneratedRegex("^[a-z][a-z0-9-]{1,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Slug();

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$", RegexOptions.CultureInvariant)]
    private static partial Regex Email();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvName();

    [GeneratedRegex("^[1-9][0-9]{0,5}[mhd]$", RegexOptions.CultureInvariant)]
    private static partial Regex Window();

    [GeneratedRegex("^[a-z][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex DetectorName();

    /// <summary>The document's system name, once read: what stored state (a pilot's end) is looked up by.</summary>
    private string? systemName;

    public SystemSpec? Read(YNode root)
    {
        var before = session.Reported;
        var top = MapOf(root, "", RootKeys);
        if (top is null)
        {
            return null;
        }

        if (RequiredText(top, "apiVersion") is { } apiVersion && apiVersion != ApiVersion)
        {
            Error(top.Child("apiVersion"), $"unsupported apiVersion '{apiVersion}': expected {ApiVersion}", top.Get("apiVersion")!);
        }
        if (RequiredText(top, "kind") is { } kind && kind != Kind)
        {
            Error(top.Child("kind"), $"unsupported kind '{kind}': expected {Kind}", top.Get("kind")!);
        }

        string? name = null;
        string? title = null;
        systemName = null;
        if (Required(top, "metadata") is { } metadataNode && MapOf(metadataNode, "metadata", MetadataKeys) is { } metadata)
        {
            name = RequiredText(metadata, "name");
            if (name is not null)
            {
                var nameNode = metadata.Get("name")!;
                if (!Slug().IsMatch(name))
                {
                    Error("metadata.name",
                        $"invalid name '{name}': use 2-63 lowercase letters, digits or hyphens, starting with a letter (it is the model name clients send)",
                        nameNode);
                }
                else if (session.Claim(name, source, nameNode.Line) is { } first)
                {
                    Error("metadata.name", $"duplicate system name '{name}': already defined in {first.Source} at line {first.Line}", nameNode);
                }
            }
            title = Text(metadata, "title");
            systemName = name;
        }

        var spec = Required(top, "spec") is { } specNode ? MapOf(specNode, "spec", SpecKeys) : null;
        if (spec is null)
        {
            return null;
        }

        var owner = RequiredText(spec, "owner");
        if (owner is not null && !Email().IsMatch(owner))
        {
            Error("spec.owner", $"owner must be an e-mail address (the accountable person), found '{owner}'", spec.Get("owner")!);
        }
        var purpose = RequiredText(spec, "purpose");
        var risk = Enum<RiskTier>(spec, "risk") ?? RiskTier.Medium;
        var upstream = Required(spec, "upstream") is { } upstreamNode ? ReadUpstream(upstreamNode, spec.Child("upstream")) : null;
        var config = Optional(spec, "config", ReadConfig) ?? new ConfigSpec();
        var dataBoundary = Optional(spec, "dataBoundary", ReadDataBoundary) ?? new DataBoundarySpec();
        var training = Optional(spec, "training", ReadTraining) ?? new TrainingSpec();
        var review = Optional(spec, "review", ReadReview) ?? new ReviewSpec();
        var baseline = Optional(spec, "baseline", ReadBaseline) ?? new BaselineSpec();
        var pilot = Optional(spec, "pilot", ReadPilot);
        var rollout = ListOf(spec, "rollout", ReadStage);
        CheckStageNames(rollout, spec.Child("rollout"));
        var pauseRules = ListOf(spec, "pauseRules", (node, path) => ReadPauseRule(node, path, rollout));
        var tools = Optional(spec, "tools", (node, path) => MapOf(node, path, ToolsKeys) is { } map ? new ToolsSpec { SideEffecting = TextList(map, "sideEffecting") } : null) ?? new ToolsSpec();
        var limits = Optional(spec, "limits", ReadLimits) ?? new LimitsSpec();
        var evidence = Optional(spec, "evidence", (node, path) => MapOf(node, path, EvidenceKeys) is { } map
            ? new EvidenceSpec
            {
                Durability = Enum<EvidenceDurability>(map, "durability") ?? EvidenceDurability.Durable,
                Content = Enum<ContentRetention>(map, "content") ?? ContentRetention.Full,
                OnStoreOutage = Enum<StoreOutage>(map, "onStoreOutage"),
                ContentDays = Int(map, "contentDays", 1),
            }
            : null) ?? new EvidenceSpec();
        var changeControl = Optional(spec, "changeControl", ReadChangeControl) ?? new ChangeControlSpec();

        if (session.Reported != before)
        {
            return null;
        }
        return new SystemSpec
        {
            Name = name!,
            Title = title,
            Owner = owner!,
            Purpose = purpose!,
            Risk = risk,
            Upstream = upstream!,
            Config = config,
            DataBoundary = dataBoundary,
            Training = training,
            Review = review,
            Baseline = baseline,
            Pilot = pilot,
            Rollout = rollout.Select(s => s.Spec).ToArray(),
            PauseRules = pauseRules,
            Tools = tools,
            Limits = limits,
            Evidence = evidence,
            ChangeControl = changeControl,
        };
    }

    private ChangeControlSpec? ReadChangeControl(YNode node, string path)
    {
        if (MapOf(node, path, ChangeControlKeys) is not { } map) return null;
        var gate = Optional(map, "regressionGate", (gateNode, gatePath) =>
        {
            if (MapOf(gateNode, gatePath, RegressionGateKeys) is not { } g) return null;
            var testSet = RequiredText(g, "testSet");
            var drop = Double(g, "maxPassRateDrop", 0, 1) ?? 0;
            return testSet is null ? null : new RegressionGateSpec { TestSet = testSet, MaxPassRateDrop = drop };
        });
        return new ChangeControlSpec { RegressionGate = gate };
    }

    private LimitsSpec? ReadLimits(YNode node, string path) =>
        MapOf(node, path, LimitsKeys) is not { } map
            ? null
            : new LimitsSpec
            {
                RequestsPerMinutePerKey = Int(map, "requestsPerMinutePerKey", 1),
                CostPerDay = Decimal(map, "costPerDay", 0m),
                CostPerMonth = Decimal(map, "costPerMonth", 0m),
                CostPerUserPerDay = Decimal(map, "costPerUserPerDay", 0m),
                CostPerUserPerMonth = Decimal(map, "costPerUserPerMonth", 0m),
            };

    /// <summary>Query parameters that carry credentials in the providers' URL conventions.</summary>
    private static readonly ImmutableArray<string> SecretParameters = ["key", "apikey", "api-key", "api_key", "token", "access_token", "secret", "password", "sig", "signature", "code"];

    private static string? CredentialsIn(Uri uri)
    {
        if (uri.UserInfo.Length > 0) return "a user name or password before '@'";
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = Uri.UnescapeDataString(pair.Split('=')[0]).ToLowerInvariant();
            if (SecretParameters.Contains(name)) return $"the query parameter '{name}'";
        }
        return null;
    }

    /// <summary>
    /// A value that is a valid variable name but reads like a key (long, lower case and digits mixed, e.g.
    /// "sk_live_51Hx..."); variable names are conventionally short and upper case.
    /// </summary>
    private static bool LooksLikeKey(string value) =>
        value.StartsWith("sk_", StringComparison.Ordinal)
        || (value.Length >= 24 && value.Any(char.IsLower) && value.Any(char.IsUpper) && value.Any(char.IsDigit));

    private ConfigSpec? ReadConfig(YNode node, string path)
    {
        if (MapOf(node, path, ConfigKeys) is not { } map)
        {
            return null;
        }
        return new ConfigSpec
        {
            SystemPrompt = Text(map, "systemPrompt"),
            Temperature = Double(map, "temperature", 0, 2),
            TopP = Double(map, "topP", 0, 1),
            MaxTokens = Int(map, "maxTokens", 1),
        };
    }

    private TrainingSpec? ReadTraining(YNode node, string path)
    {
        if (MapOf(node, path, TrainingKeys) is not { } map)
        {
            return null;
        }
        var required = Bool(map, "required") ?? false;
        var text = Text(map, "text");
        if (required && text is null && map.Get("text") is null)
        {
            Error(map.Child("text"), "missing required field 'text': training.required is true, so people need something to acknowledge", map.Node);
        }
        return new TrainingSpec { Required = required, Text = text };
    }

    private ReviewSpec? ReadReview(YNode node, string path)
    {
        if (MapOf(node, path, ReviewKeys) is not { } map)
        {
            return null;
        }
        return new ReviewSpec
        {
            Reviewers = TextList(map, "reviewers"),
            MinutesPerDay = Int(map, "minutesPerDay", 0),
            SlaHours = Double(map, "slaHours", 0, double.MaxValue, exclusiveMin: true),
            HourlyRate = Decimal(map, "hourlyRate", 0m),
        };
    }

    private BaselineSpec? ReadBaseline(YNode node, string path) =>
        MapOf(node, path, BaselineKeys) is not { } map
            ? null
            : new BaselineSpec { ManualMinutesPerTask = Double(map, "manualMinutesPerTask", 0, double.MaxValue) };

    private PilotSpec? ReadPilot(YNode node, string path)
    {
        if (MapOf(node, path, PilotKeys) is not { } map)
        {
            return null;
        }
        var questions = EnumList<PilotQuestion>(map, "questions");
        var group = RequiredText(map, "group");
        var mode = Enum<ServingMode>(map, "mode") ?? ServingMode.Draft;
        DateOnly? ends = null;
        string? relative = null;
        if (Required(map, "ends") is { } endsNode)
        {
            (ends, relative) = PilotEnds(endsNode, map.Child("ends"));
        }
        var minSamples = Int(map, "minSamples", 0) ?? 0;
        var criteria = ListOf(map, "criteria", (n, p) => ReadCriterion(n, p, pilot: true));
        return group is null || ends is null
            ? null
            : new PilotSpec { Questions = questions, Group = group, Mode = mode, Approval = ReadApproval(map, mode), Ends = ends.Value, EndsRelative = relative, MinSamples = minSamples, Criteria = criteria };
    }

    /// <summary>
    /// A date, or an offset from the day of apply (<c>+90d</c>) resolved to one; an unchanged offset
    /// keeps the stored date, so applying the same file again changes nothing. An end date that has
    /// passed is refused when the options say so, unless it is the one already stored.
    /// </summary>
    private (DateOnly? Ends, string? Relative) PilotEnds(YNode node, string path)
    {
        var stored = systemName is not null && session.Options.StoredPilots.TryGetValue(systemName, out var pilot) ? pilot : null;
        if (node is YScalar scalar && PilotEnd.LooksRelative(scalar.Value))
        {
            if (stored is not null && stored.EndsRelative == scalar.Value) return (stored.Ends, scalar.Value);
            if (PilotEnd.Resolve(scalar.Value, session.Today) is { } resolved) return (resolved, scalar.Value);
            Error(path, $"invalid relative end '{scalar.Value}': write + and a whole number of days, weeks, months or years from the day of apply, such as +90d, +12w, +3m or +1y", node);
            return (null, null);
        }
        if (Date(node, path, "or an end relative to the day of apply such as +90d") is not { } date) return (null, null);
        if (session.Options.RefusePastEnds && date < session.Today && stored?.Ends != date)
        {
            Error(path, PilotEnd.PastMessage(date, session.Today), node);
        }
        return (date, null);
    }

    private CriterionSpec? ReadCriterion(YNode node, string path, bool pilot)
    {
        if (MapOf(node, path, CriterionKeys) is not { } map)
        {
            return null;
        }
        var metric = MetricName(map, "metric");
        var min = Double(map, "min", double.MinValue, double.MaxValue);
        var max = Double(map, "max", double.MinValue, double.MaxValue);
        if (map.Get("min") is null && map.Get("max") is null)
        {
            Error(path, "a criterion needs min or max (or both)", map.Node);
        }
        if (min is not null && max is not null && min > max)
        {
            Error(map.Child("min"), $"min ({Show(min.Value)}) is greater than max ({Show(max.Value)}): the criterion can never pass", map.Get("min")!);
        }
        CheckRateBounds(map, metric, "min", min);
        CheckRateBounds(map, metric, "max", max);
        var outcome = Enum<PilotOutcome>(map, "else");
        if (pilot && map.Get("else") is null)
        {
            Error(map.Child("else"),
                $"missing required field 'else': name the outcome when this criterion fails ({string.Join(", ", SpecEnum.Names<PilotOutcome>())})",
                map.Node);
        }
        var confidence = Text(map, "confidence");
        if (confidence is not null && !Confidences.Contains(confidence))
        {
            Error(map.Child("confidence"), $"invalid value '{confidence}': allowed values are {string.Join(", ", Confidences)}", map.Get("confidence")!);
        }
        return metric is null ? null : new CriterionSpec { Metric = metric, Min = min, Max = max, Else = outcome, Confidence = confidence };
    }

    private (RolloutStageSpec Spec, YNode NameNode)? ReadStage(YNode node, string path)
    {
        if (MapOf(node, path, StageKeys) is not { } map)
        {
            return null;
        }
        var name = RequiredText(map, "name");
        var groups = TextList(map, "groups");
        if (map.Get("groups") is null)
        {
            Error(map.Child("groups"), "missing required field 'groups': a stage opens the system to at least one group", map.Node);
        }
        else if (groups.Count == 0 && map.Get("groups") is YSequence emptyList)
        {
            Error(map.Child("groups"), "a stage opens the system to at least one group; the list is empty", emptyList);
        }
        var mode = Enum<ServingMode>(map, "mode") ?? ServingMode.Full;
        var stage = new RolloutStageSpec
        {
            Name = name ?? "",
            Groups = groups,
            Mode = mode,
            Approval = ReadApproval(map, mode),
            MinDays = Int(map, "minDays", 0),
            MinSamples = Int(map, "minSamples", 0),
            Gate = ListOf(map, "gate", (n, p) => ReadCriterion(n, p, pilot: false)),
        };
        return name is null ? null : (stage, map.Get("name")!);
    }

    private void CheckStageNames(List<(RolloutStageSpec Spec, YNode NameNode)> stages, string path)
    {
        var seen = new Dictionary<string, YNode>(StringComparer.Ordinal);
        for (var i = 0; i < stages.Count; i++)
        {
            var (stage, nameNode) = stages[i];
            if (!seen.TryAdd(stage.Name, nameNode))
            {
                Error($"{path}[{i}].name", $"duplicate stage name '{stage.Name}' (first at line {seen[stage.Name].Line})", nameNode);
            }
        }
    }

    private PauseRuleSpec? ReadPauseRule(YNode node, string path, List<(RolloutStageSpec Spec, YNode NameNode)> stages)
    {
        if (MapOf(node, path, PauseRuleKeys) is not { } map)
        {
            return null;
        }
        var metric = MetricName(map, "metric");
        if (MetricCatalogue.WhyNotInPauseRules(metric) is { } why)
        {
            // Refused, not stored and silently never evaluated.
            Error(map.Child("metric"), $"a pause rule cannot watch {metric}: {why}. Pause rules watch {string.Join(", ", MetricCatalogue.PauseRuleMetrics)}", map.Get("metric")!);
        }
        var over = Int(map, "over", 1);
        if (metric == "cost_per_day" && map.Get("over") is { } overNode)
        {
            Error(map.Child("over"), "cost_per_day needs a time window (window: 1h or 1d), not a count of requests (over)", overNode);
        }
        var window = Text(map, "window");
        if (window is not null && !Window().IsMatch(window))
        {
            Error(map.Child("window"), $"invalid window '{window}': write a whole number of minutes, hours or days such as 30m, 1h or 1d", map.Get("window")!);
        }
        if (map.Get("over") is not null && map.Get("window") is not null)
        {
            Error(path, "use either over (the last N samples) or window (a time span), not both", map.Node);
        }
        var above = Double(map, "above", double.MinValue, double.MaxValue);
        var below = Double(map, "below", double.MinValue, double.MaxValue);
        if (map.Get("above") is null && map.Get("below") is null)
        {
            Error(path, "a pause rule needs above or below: the threshold that triggers it", map.Node);
        }
        CheckRateBounds(map, metric, "above", above);
        CheckRateBounds(map, metric, "below", below);
        var actionValue = Enum<PauseAction>(map, "action");
        // An invalid action is already reported; do not pile a second, confusing error on 'to'.
        var actionKnown = actionValue is not null || map.Get("action") is null;
        var action = actionValue ?? PauseAction.Pause;
        var to = Text(map, "to");
        if (actionKnown && action == PauseAction.Restrict && map.Get("to") is null)
        {
            Error(map.Child("to"),
                "missing required field 'to': restrict needs a stricter mode (e.g. approval) or an earlier rollout stage name",
                map.Node);
        }
        else if (actionKnown && action != PauseAction.Restrict && to is not null)
        {
            Error(map.Child("to"), $"'to' only applies to action restrict, not {SpecEnum.ToName(action)}", map.Get("to")!);
        }
        else if (to is not null && !SpecEnum.TryParse<ServingMode>(to, out _) && !stages.Any(s => s.Spec.Name == to))
        {
            Error(map.Child("to"),
                $"'{to}' is neither a serving mode ({string.Join(", ", SpecEnum.Names<ServingMode>())}) nor a rollout stage name",
                map.Get("to")!);
        }
        return metric is null
            ? null
            : new PauseRuleSpec { Metric = metric, Over = over, Window = window, Above = above, Below = below, Action = action, To = to };
    }

    private string? MetricName(Map map, string key)
    {
        var metric = RequiredText(map, key);
        if (metric is null || MetricCatalogue.IsKnown(metric))
        {
            return metric;
        }
        var suggestion = MetricCatalogue.Suggest(metric);
        Error(map.Child(key),
            $"unknown metric '{metric}'" + (suggestion is null ? " (see the metric catalogue in docs/spec.md)" : $" (did you mean {suggestion}?)"),
            map.Get(key)!);
        return null;
    }

    /// <summary>A rate written as a percentage (80 instead of 0.8) would make a criterion meaningless.</summary>
    private void CheckRateBounds(Map map, string? metric, string key, double? value)
    {
        if (metric is not null && value is { } v && MetricCatalogue.IsRate(metric) && v is < 0 or > 1)
        {
            var hint = v is > 1 and <= 100 ? $" (write {Show(v / 100)} for {Show(v)} %)" : "";
            Error(map.Child(key), $"{metric} is a rate between 0 and 1, found {Show(v)}{hint}", map.Get(key)!);
        }
    }

    protected override void Error(string path, string message, YNode node) =>
        session.Add(new SpecError(source, path, message, node.Line, node.Column));
}
