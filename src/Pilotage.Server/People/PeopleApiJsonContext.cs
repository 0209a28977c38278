using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.People;

/// <summary>Source-generated serialization of the control API payloads for people, groups and the caller (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(UserView))]
[JsonSerializable(typeof(IReadOnlyList<UserView>))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(UpdateUserRequest))]
[JsonSerializable(typeof(GroupView))]
[JsonSerializable(typeof(IReadOnlyList<GroupView>))]
[JsonSerializable(typeof(CreateGroupRequest))]
[JsonSerializable(typeof(MembershipChange))]
[JsonSerializable(typeof(MeView))]
public sealed partial class PeopleApiJsonContext : JsonSerializerContext;
