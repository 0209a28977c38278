using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Server.Access;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Notifications;

public sealed record WebhookDeliveryView(long Id, string Event, string Url, string Status, int Attempts, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? NextAttemptAt, DateTimeOffset? DeliveredAt);

/// <summary>The webhook route: reads through <see cref="WebhookQueries"/>.</summary>
public static class WebhookEndpoints
{
    public static void MapWebhooks(this IEndpointRouteBuilder api)
    {
        api.MapGet("/webhooks/deliveries", (string? status, WebhookQueries webhooks, CancellationToken ct) => webhooks.DeliveriesAsync(status, ct))
            .RequirePermission(Permission.AuditRead).WithTags("Notifications").WithSummary("Webhook deliveries and their attempts, newest first");
    }
}

/// <summary>What the API reads of webhook deliveries.</summary>
public sealed class WebhookQueries(PilotageStore store)
{
    /// <summary>The 200 most recent deliveries (of one status when given), newest first.</summary>
    public async Task<List<WebhookDeliveryView>> DeliveriesAsync(string? status, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var query = db.WebhookDeliveries.AsNoTracking().AsQueryable();
        if (!string.IsNullOrEmpty(status)) query = query.Where(d => d.Status == status);
        var rows = await query.OrderByDescending(d => d.Id).Take(200).ToListAsync(ct);
        return rows.Select(d => new WebhookDeliveryView(d.Id, d.Event, d.Url, d.Status, d.Attempts, d.LastError, d.CreatedAt, d.NextAttemptAt, d.DeliveredAt)).ToList();
    }
}
