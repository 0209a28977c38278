using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Notifications;

/// <summary>The operator's webhook: where events go, the HMAC secret that signs them, and the payload style.</summary>
public sealed record WebhookOptions
{
    public required string Url { get; init; }
    /// <summary>Signs each body (header <c>X-Pilotage-Signature: sha256=…</c>); unsigned when null.</summary>
    public string? Secret { get; init; }
    /// <summary><c>json</c> (default) or <c>slack</c> (a <c>{"text": …}</c> payload Slack-compatible receivers accept).</summary>
    public string Format { get; init; } = "json";
    public int MaxAttempts { get; init; } = 6;
    /// <summary>First retry delay; doubles each attempt.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    public static WebhookOptions? FromEnvironment(Func<string, string?> env)
    {
        var url = env("PILOTAGE_WEBHOOK_URL");
        if (string.IsNullOrWhiteSpace(url)) return null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"PILOTAGE_WEBHOOK_URL must be an absolute http(s) URL, found '{url}'");
        }
        var format = env("PILOTAGE_WEBHOOK_FORMAT") ?? "json";
        if (format is not ("json" or "slack")) throw new ArgumentException($"PILOTAGE_WEBHOOK_FORMAT must be json or slack, found '{format}'");
        return new WebhookOptions { Url = url, Secret = env("PILOTAGE_WEBHOOK_SECRET"), Format = format };
    }
}

/// <summary>
/// Which audit actions are worth telling someone about, and the deliveries they become. A delivery row
/// is added in the same transaction as the audit entry, so an event is never lost between the two.
/// </summary>
public static class WebhookEvents
{
    private static readonly string[] Prefixes =
        ["system.paused", "system.resumed", "system.decision.", "system.rule_fired", "system.stage_changed", "incident.filed", "incident.escalated", "pilot.expiring", "pilot.expired", "change.requested", "change.approved", "change.applied", "change.gate_refused", "system.handover_"];

    public static bool Notifies(string action) => Prefixes.Any(p => action.StartsWith(p, StringComparison.Ordinal));

    public static WebhookDeliveryRow Delivery(WebhookOptions options, AuditEntryRow entry)
    {
        var payload = new JsonObject
        {
            ["event"] = entry.Action,
            ["subject"] = entry.Subject,
            ["actor"] = entry.Actor,
            ["at"] = entry.At.ToString("O", CultureInfo.InvariantCulture),
            ["auditSequence"] = entry.Sequence,
            ["details"] = entry.After is { } after && TryParse(after) is { } node ? node : entry.After,
        };
        var body = options.Format == "slack"
            ? new JsonObject { ["text"] = $"Pilotage: {entry.Action} on {entry.Subject} by {entry.Actor} at {entry.At:yyyy-MM-dd HH:mm} UTC" }.ToJsonString()
            : payload.ToJsonString();
        return new WebhookDeliveryRow { Event = entry.Action, Url = options.Url, Payload = body, Status = WebhookDeliveryStatuses.Pending, CreatedAt = entry.At, NextAttemptAt = entry.At };
    }

    public static string Signature(string secret, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

    private static JsonNode? TryParse(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// Delivers pending webhooks with retries and exponential backoff; every attempt is recorded on the
/// delivery row so operators can see what was sent, when, and why it failed.
/// </summary>
public sealed class WebhookSender(PilotageStore store, IHttpClientFactory clients, TimeProvider time, PilotageServerOptionsAccessor options, ILogger<WebhookSender> logger) : BackgroundService
{
    public const string Client = "pilotage-webhooks";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Webhook is not { } webhook) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DeliverDueAsync(webhook, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Webhook delivery loop failed; retrying: {Reason}", e.Message);
            }
            try
            {
                await Task.Delay(webhook.PollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async Task DeliverDueAsync(WebhookOptions webhook, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var db = store.CreateDbContext();
        // With replicas on PostgreSQL, one sender at a time: a delivery is sent once, not once per replica.
        await using var turn = await Replicas.ReplicaLock.TryTakeAsync(db, Replicas.ReplicaLock.Webhooks, ct);
        if (turn is null) return;
        var due = (await db.WebhookDeliveries.Where(d => d.Status == WebhookDeliveryStatuses.Pending).OrderBy(d => d.Id).Take(500).ToListAsync(ct))
            .Where(d => d.NextAttemptAt is null || d.NextAttemptAt <= now).ToList();
        foreach (var delivery in due)
        {
            delivery.Attempts++;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url) { Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json") };
                request.Headers.Add("X-Pilotage-Event", delivery.Event);
                request.Headers.Add("X-Pilotage-Delivery", delivery.Id.ToString(CultureInfo.InvariantCulture));
                if (webhook.Secret is { } secret) request.Headers.Add("X-Pilotage-Signature", WebhookEvents.Signature(secret, delivery.Payload));
                request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Pilotage", "1.0"));
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                using var response = await clients.CreateClient(Client).SendAsync(request, timeout.Token);
                if (response.IsSuccessStatusCode)
                {
                    delivery.Status = WebhookDeliveryStatuses.Delivered;
                    delivery.DeliveredAt = time.GetUtcNow();
                    delivery.LastError = null;
                    delivery.NextAttemptAt = null;
                }
                else
                {
                    Retry(delivery, webhook, $"HTTP {(int)response.StatusCode}");
                }
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                Retry(delivery, webhook, e.Message);
            }
        }
        await db.SaveChangesAsync(ct);
    }

    private void Retry(WebhookDeliveryRow delivery, WebhookOptions webhook, string error)
    {
        delivery.LastError = error.Length > 500 ? error[..500] : error;
        if (delivery.Attempts >= webhook.MaxAttempts)
        {
            delivery.Status = WebhookDeliveryStatuses.Failed;
            delivery.NextAttemptAt = null;
            logger.LogWarning("Webhook {Event} (delivery {Id}) failed after {Attempts} attempts: {Error}", delivery.Event, delivery.Id, delivery.Attempts, delivery.LastError);
            return;
        }
        delivery.NextAttemptAt = time.GetUtcNow() + webhook.RetryDelay * Math.Pow(2, delivery.Attempts - 1);
    }
}

/// <summary>Gives background services the server options without a dependency on the whole host.</summary>
public sealed record PilotageServerOptionsAccessor(WebhookOptions? Webhook);

/// <summary>
/// Adds the delivery of each notified audit action in the command's own transaction, so the
/// notification commits with the entry it reports, or not at all.
/// </summary>
public sealed class WebhookOutbox(PilotageServerOptionsAccessor options) : IAuditAppendObserver
{
    public Task OnAppendedAsync(AuditAppend append, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(append);
        if (options.Webhook is not { } webhook) return Task.CompletedTask;
        foreach (var appended in append.Entries)
        {
            if (WebhookEvents.Notifies(appended.Entry.Action)) append.Db.WebhookDeliveries.Add(WebhookEvents.Delivery(webhook, appended.Entry));
        }
        return Task.CompletedTask;
    }
}
