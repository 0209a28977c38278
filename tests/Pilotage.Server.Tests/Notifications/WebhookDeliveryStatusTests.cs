using Pilotage.Server.Notifications;

namespace Pilotage.Server.Tests.Notifications;

/// <summary>The delivery statuses keep the names stored rows already have, and refuse any other word.</summary>
public sealed class WebhookDeliveryStatusTests
{
    [Fact]
    public void Every_status_round_trips_with_its_stored_name()
    {
        foreach (var status in Enum.GetValues<WebhookDeliveryStatus>()) Assert.Equal(status, WebhookDeliveryStatuses.Parse(status.Name()));
        Assert.Equal(new[] { "pending", "delivered", "failed" }, WebhookDeliveryStatuses.Names);
    }

    [Theory]
    [InlineData("Pending")]
    [InlineData("sent")]
    [InlineData(null)]
    public void An_unknown_status_is_refused_naming_the_statuses(string? name)
    {
        Assert.Null(WebhookDeliveryStatuses.Parse(name));
        var error = Assert.Throws<FormatException>(() => WebhookDeliveryStatuses.Require(name));
        Assert.Equal($"'{name}' is not a webhook delivery status: expected one of pending, delivered, failed", error.Message);
    }
}
