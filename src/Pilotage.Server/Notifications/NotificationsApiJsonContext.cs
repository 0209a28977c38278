using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Notifications;

/// <summary>Source-generated serialization of the control API payloads for webhook deliveries (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(List<WebhookDeliveryView>))]
public sealed partial class NotificationsApiJsonContext : JsonSerializerContext;
