namespace Pilotage.Server.Notifications;

/// <summary>Where a webhook delivery stands: waiting to be sent (or retried), delivered, or given up after the last retry.</summary>
public enum WebhookDeliveryStatus { Pending, Delivered, Failed }

/// <summary>
/// The one spelling of <see cref="WebhookDeliveryStatus"/> in the store and the API. The constants let queries over
/// the stored text (<c>d.Status == WebhookDeliveryStatuses.Pending</c>) spell it from here, as SQL literals.
/// </summary>
public static class WebhookDeliveryStatuses
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";

    /// <summary>Every status's name, in declaration order (used in error messages).</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<WebhookDeliveryStatus>().Select(Name)];

    public static string Name(this WebhookDeliveryStatus status) => status switch
    {
        WebhookDeliveryStatus.Pending => Pending,
        WebhookDeliveryStatus.Delivered => Delivered,
        WebhookDeliveryStatus.Failed => Failed,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "not a webhook delivery status"),
    };

    /// <summary>The status <paramref name="name"/> spells (exactly); null for anything else.</summary>
    public static WebhookDeliveryStatus? Parse(string? name) => name switch
    {
        Pending => WebhookDeliveryStatus.Pending,
        Delivered => WebhookDeliveryStatus.Delivered,
        Failed => WebhookDeliveryStatus.Failed,
        _ => null,
    };

    /// <summary>The status <paramref name="name"/> spells; a <see cref="FormatException"/> listing the statuses for anything else.</summary>
    public static WebhookDeliveryStatus Require(string? name) =>
        Parse(name) ?? throw new FormatException($"'{name}' is not a webhook delivery status: expected one of {string.Join(", ", Names)}");
}
