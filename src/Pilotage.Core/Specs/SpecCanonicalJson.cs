using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Pilotage.Core.Specs;

/// <summary>
/// The one stable text form of a spec: what is stored, hashed and diffed. Same spec ⇒ same bytes,
/// whatever the YAML formatting or key order was: properties come out in declaration order, enums in
/// lowercase snake case, decimals without trailing zeros, and nulls, empty lists, empty sections and
/// values equal to their declared default are left out.
/// </summary>
public static class SpecCanonicalJson
{
    /// <summary>The source-generated contract with the "leave out defaults" rules added.</summary>
    private static readonly JsonSerializerOptions Options = Freeze(new JsonSerializerOptions
    {
        TypeInfoResolver = SpecJsonContext.Default.WithAddedModifier(OmitDefaults),
        Converters =
        {
            new SnakeEnumConverter<RiskTier>(),
            new SnakeEnumConverter<ServingMode>(),
            new SnakeEnumConverter<PilotOutcome>(),
            new SnakeEnumConverter<PilotQuestion>(),
            new SnakeEnumConverter<PauseAction>(),
            new SnakeEnumConverter<EvidenceDurability>(),
            new SnakeEnumConverter<ContentRetention>(),
            new SnakeEnumConverter<StoreOutage>(),
            new SnakeEnumConverter<AnswerBoundaryMode>(),
            new CanonicalDecimalConverter(),
        },
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
        // Keep '<', '>', '&' and non-ASCII readable; escaping them would not change the meaning.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>Read-only from the start, so the shared instance is never mutable state.</summary>
    private static JsonSerializerOptions Freeze(JsonSerializerOptions options)
    {
        options.MakeReadOnly();
        return options;
    }

    public static string Serialize(SystemSpec spec) =>
        JsonSerializer.Serialize(spec, (JsonTypeInfo<SystemSpec>)Options.GetTypeInfo(typeof(SystemSpec)));

    /// <summary>Reads canonical (or any compatible) JSON back; throws <see cref="JsonException"/> on invalid input.</summary>
    public static SystemSpec Deserialize(string json)
    {
        var typeInfo = (JsonTypeInfo<SystemSpec>)Options.GetTypeInfo(typeof(SystemSpec));
        if (JsonNode.Parse(json) is not JsonObject root)
        {
            throw new JsonException("the JSON text is not an object, so not a spec");
        }
        // Source-generated deserialization sets every init-only property, with default(T) when absent,
        // which would turn a left-out "risk" into low and a left-out section into null. Putting the
        // declared defaults back first makes the omission rules above exactly reversible.
        FillDefaults(root, typeInfo);
        return root.Deserialize(typeInfo) ?? throw new JsonException("the JSON text is null, not a spec");
    }

    /// <summary>Lowercase hex SHA-256 of the canonical JSON: identifies a spec version.</summary>
    public static string Hash(SystemSpec spec) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Serialize(spec))));

    /// <summary>Non-null defaults that the records declare, so that writing them adds nothing.</summary>
    private static object? DeclaredDefault(Type declaringType, string jsonName) => (declaringType.Name, jsonName) switch
    {
        (nameof(SystemSpec), "risk") => RiskTier.Medium,
        (nameof(PilotSpec), "mode") => ServingMode.Draft,
        (nameof(UpstreamSpec), "protocol") => UpstreamProtocol.OpenAiChat,
        (nameof(RolloutStageSpec), "mode") => ServingMode.Full,
        (nameof(PauseRuleSpec), "action") => PauseAction.Pause,
        _ => null,
    };

    private static void FillDefaults(JsonObject node, JsonTypeInfo typeInfo)
    {
        foreach (var property in typeInfo.Properties)
        {
            var type = property.PropertyType;
            var elementType = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) ? type.GetGenericArguments()[0] : null;
            if (node[property.Name] is { } present)
            {
                if (present is JsonObject child && IsSection(type))
                {
                    FillDefaults(child, Options.GetTypeInfo(Nullable.GetUnderlyingType(type) ?? type));
                }
                else if (present is JsonArray items && elementType is not null && IsSection(elementType))
                {
                    foreach (var item in items.OfType<JsonObject>())
                    {
                        FillDefaults(item, Options.GetTypeInfo(elementType));
                    }
                }
                continue;
            }
            if (property.IsRequired)
            {
                continue; // let the serializer report it as missing
            }
            if (DeclaredDefault(typeInfo.Type, property.Name) is Enum declared)
            {
                node[property.Name] = JsonSerializer.SerializeToNode(declared, Options.GetTypeInfo(declared.GetType()));
            }
            else if (elementType is not null)
            {
                node[property.Name] = new JsonArray();
            }
            else if (IsSection(type) && !property.IsSetNullable)
            {
                var section = new JsonObject();
                FillDefaults(section, Options.GetTypeInfo(type));
                node[property.Name] = section;
            }
        }
    }

    /// <summary>A nested spec record (config, pilot, a stage…), as opposed to a scalar or a list.</summary>
    private static bool IsSection(Type type) =>
        type.IsClass && type != typeof(string) && type.Namespace == typeof(SystemSpec).Namespace;

    private static void OmitDefaults(JsonTypeInfo typeInfo)
    {
        if (typeInfo.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }
        foreach (var property in typeInfo.Properties)
        {
            if (property.IsRequired)
            {
                continue; // always written, so a reader sees every required field
            }
            var declared = DeclaredDefault(typeInfo.Type, property.Name);
            var type = property.PropertyType;
            object? zero = declared ?? (type.IsValueType && Nullable.GetUnderlyingType(type) is null ? ZeroOf(type) : null);
            property.ShouldSerialize = (_, value) => !IsEmpty(value, zero);
        }
    }

    private static object? ZeroOf(Type type) =>
        type == typeof(bool) ? false
        : type == typeof(int) ? 0
        : type == typeof(decimal) ? 0m
        : type == typeof(double) ? 0d
        : type.IsEnum ? Enum.ToObject(type, 0)
        : null;

    private static bool IsEmpty(object? value, object? zero) => value switch
    {
        null => true,
        System.Collections.ICollection { Count: 0 } => true,
        ConfigSpec c => c.SystemPrompt is null && c.Temperature is null && c.TopP is null && c.MaxTokens is null,
        DataBoundarySpec d => d.Block.Count == 0 && d.Redact.Count == 0 && d.Detectors.Count == 0 && d.Answers is null,
        TrainingSpec t => !t.Required && t.Text is null,
        ReviewSpec r => r.Reviewers.Count == 0 && r.MinutesPerDay is null && r.SlaHours is null && r.HourlyRate is null,
        BaselineSpec b => b.ManualMinutesPerTask is null,
        ToolsSpec t => t.SideEffecting.Count == 0,
        LimitsSpec l => l.RequestsPerMinutePerKey is null && l.CostPerDay is null && l.CostPerMonth is null && l.CostPerUserPerDay is null && l.CostPerUserPerMonth is null,
        EvidenceSpec e => e.Durability == EvidenceDurability.Durable && e.Content == ContentRetention.Full && e.OnStoreOutage is null && e.ContentDays is null,
        ChangeControlSpec c => c.RegressionGate is null,
        _ => zero is not null && zero.Equals(value),
    };

    /// <summary>Enums as in YAML (<c>read_only</c>), overriding the PascalCase converter on the enum types.</summary>
    private sealed class SnakeEnumConverter<T>() : JsonStringEnumConverter<T>(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false)
        where T : struct, Enum;

    /// <summary>Decimals without trailing zeros: 0.50 and 0.5 are one price and must hash the same.</summary>
    private sealed class CanonicalDecimalConverter : JsonConverter<decimal>
    {
        public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDecimal();

        public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options) =>
            writer.WriteRawValue((value / 1.0000000000000000000000000000m).ToString(CultureInfo.InvariantCulture), skipInputValidation: false);
    }
}

/// <summary>Source-generated metadata: no reflection at run time, and trimming-safe.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SystemSpec))]
internal sealed partial class SpecJsonContext : JsonSerializerContext;
