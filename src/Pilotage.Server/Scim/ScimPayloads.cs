using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Scim;

/// <summary>The SCIM 2.0 schema and message URNs (RFC 7643, RFC 7644).</summary>
public static class ScimSchemas
{
    public const string User = "urn:ietf:params:scim:schemas:core:2.0:User";
    public const string Group = "urn:ietf:params:scim:schemas:core:2.0:Group";
    public const string ListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    public const string PatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    public const string Error = "urn:ietf:params:scim:api:messages:2.0:Error";
    public const string ContentType = "application/scim+json";
}

public sealed record ScimMeta(string ResourceType, DateTimeOffset? Created, DateTimeOffset? LastModified, string? Location);

public sealed record ScimName(string? Formatted, string? GivenName, string? FamilyName);

/// <summary>A multi-valued attribute's entry: an e-mail address, a group of a user, a member of a group.</summary>
public sealed record ScimValue(string? Value, string? Display = null, string? Type = null, bool? Primary = null,
    [property: JsonPropertyName("$ref")] string? Ref = null);

/// <summary>
/// A SCIM user as Pilotage reads and writes it. Attributes Pilotage does not keep (roles, entitlements, title,
/// the enterprise extension…) are not properties, so they are dropped on reading: a provisioning client cannot
/// give anyone a role through them (roles come only from the operator's group mapping).
/// </summary>
public sealed record ScimUser(
    IReadOnlyList<string>? Schemas,
    string? Id,
    string? ExternalId,
    string? UserName,
    ScimName? Name,
    string? DisplayName,
    IReadOnlyList<ScimValue>? Emails,
    [property: JsonConverter(typeof(ScimBooleanConverter))] bool? Active,
    IReadOnlyList<ScimValue>? Groups,
    ScimMeta? Meta);

public sealed record ScimGroup(
    IReadOnlyList<string>? Schemas,
    string? Id,
    string? ExternalId,
    string? DisplayName,
    IReadOnlyList<ScimValue>? Members,
    ScimMeta? Meta);

public sealed record ScimUserList(IReadOnlyList<string> Schemas, int TotalResults, int StartIndex, int ItemsPerPage,
    [property: JsonPropertyName("Resources")] IReadOnlyList<ScimUser> Resources);

public sealed record ScimGroupList(IReadOnlyList<string> Schemas, int TotalResults, int StartIndex, int ItemsPerPage,
    [property: JsonPropertyName("Resources")] IReadOnlyList<ScimGroup> Resources);

public sealed record ScimPatchOperation(string? Op, string? Path, JsonElement? Value);

public sealed record ScimPatch(IReadOnlyList<string>? Schemas, IReadOnlyList<ScimPatchOperation>? Operations);

/// <summary>RFC 7644 §3.12: status is a string; scimType one of the RFC's keywords (invalidFilter, uniqueness…).</summary>
public sealed record ScimError(IReadOnlyList<string> Schemas, string? ScimType, string Detail, string Status);

/// <summary>
/// SCIM booleans as clients send them: Microsoft Entra ID sends <c>"active": "False"</c> (a string) in PATCH, so
/// <c>"true"</c>/<c>"false"</c> in any case are read as booleans too; anything else is invalid.
/// </summary>
public sealed class ScimBooleanConverter : JsonConverter<bool?>
{
    public override bool? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        JsonTokenType.Null => null,
        JsonTokenType.String when bool.TryParse(reader.GetString(), out var value) => value,
        _ => throw new JsonException("a boolean (true or false) was expected"),
    };

    public override void Write(Utf8JsonWriter writer, bool? value, JsonSerializerOptions options)
    {
        if (value is { } v) writer.WriteBooleanValue(v);
        else writer.WriteNullValue();
    }
}

/// <summary>Source-generated SCIM serialisation. Attribute names are case-insensitive (RFC 7643 §2.1).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, MaxDepth = 16)]
[JsonSerializable(typeof(ScimUser))]
[JsonSerializable(typeof(ScimGroup))]
[JsonSerializable(typeof(ScimUserList))]
[JsonSerializable(typeof(ScimGroupList))]
[JsonSerializable(typeof(ScimPatch))]
[JsonSerializable(typeof(ScimError))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(ScimName))]
[JsonSerializable(typeof(IReadOnlyList<ScimValue>))]
public sealed partial class ScimJsonContext : JsonSerializerContext;
