using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Pilotage.Server.Access;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Dashboard;

/// <summary>
/// Dashboard sessions kept in the store (table <c>dashboard_sessions</c>): the cookie carries only a
/// random session id, and every request looks it up. Signing out deletes the row, so a cookie copied
/// before is refused afterwards; so is one whose key was revoked or expired, or whose person was
/// deactivated, on every replica at once (they share the database), whatever their policy snapshots say.
/// </summary>
public sealed class DashboardSessionStore(PilotageStore store, TimeProvider time) : ITicketStore
{
    public Task<string> StoreAsync(AuthenticationTicket ticket) => StoreAsync(ticket, CancellationToken.None);

    public async Task<string> StoreAsync(AuthenticationTicket ticket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = time.GetUtcNow();
        var keyId = ticket.Principal.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim)
            ?? throw new InvalidOperationException("a dashboard session is made from an API key or a sign-in at the identity provider; the ticket names neither");
        await using var db = store.CreateDbContext();
        // Sessions nobody signed out of end with their cookie; their rows go when the next person signs in.
        var cutoff = now.ToUnixTimeSeconds();
        await db.DashboardSessions.Where(s => s.ExpiresAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        db.DashboardSessions.Add(new DashboardSessionRow
        {
            Id = Hash(id),
            KeyId = keyId,
            UserId = long.TryParse(ticket.Principal.FindFirstValue(ClaimTypes.NameIdentifier), System.Globalization.CultureInfo.InvariantCulture, out var user) ? user : 0,
            Ticket = TicketSerializer.Default.Serialize(ticket),
            CreatedAt = now,
            ExpiresAt = ExpiryOf(ticket, now),
        });
        await db.SaveChangesAsync(cancellationToken);
        return id;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket) => RenewAsync(key, ticket, CancellationToken.None);

    public async Task RenewAsync(string key, AuthenticationTicket ticket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        var bytes = TicketSerializer.Default.Serialize(ticket);
        var expires = ExpiryOf(ticket, time.GetUtcNow());
        var hash = Hash(key);
        await using var db = store.CreateDbContext();
        // Only an existing session is renewed: a session signed out meanwhile stays ended.
        await db.DashboardSessions.Where(s => s.Id == hash)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Ticket, bytes).SetProperty(r => r.ExpiresAt, expires), cancellationToken);
    }

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => RetrieveAsync(key, CancellationToken.None);

    public async Task<AuthenticationTicket?> RetrieveAsync(string key, CancellationToken cancellationToken)
    {
        var hash = Hash(key);
        var now = time.GetUtcNow();
        var seconds = now.ToUnixTimeSeconds();
        await using var db = store.CreateDbContext();
        var session = await db.DashboardSessions.AsNoTracking().Where(s => s.Id == hash && s.ExpiresAt > seconds)
            .Select(s => new { s.KeyId, s.UserId, s.Ticket }).SingleOrDefaultAsync(cancellationToken);
        if (session is null) return null;
        if (session.KeyId.StartsWith(Identity.AccessTokens.CredentialPrefix, StringComparison.Ordinal))
        {
            // Signed in through the identity provider: the person must still be active.
            if (await db.Users.AsNoTracking().AnyAsync(u => u.Id == session.UserId && u.Active, cancellationToken)) return TicketSerializer.Default.Deserialize(session.Ticket);
            await db.DashboardSessions.Where(s => s.Id == hash).ExecuteDeleteAsync(cancellationToken);
            return null;
        }
        var grant = await db.ApiKeys.AsNoTracking().Where(k => k.Id == session.KeyId)
            .Select(k => new { k.RevokedAt, k.ExpiresAt, Active = k.User != null && k.User.Active }).SingleOrDefaultAsync(cancellationToken);
        // The key the session was made from must still be usable: revoked, expired or its person deactivated ends it.
        if (grant is null || grant.RevokedAt is not null || grant.ExpiresAt <= now || !grant.Active)
        {
            await db.DashboardSessions.Where(s => s.Id == hash).ExecuteDeleteAsync(cancellationToken);
            return null;
        }
        return TicketSerializer.Default.Deserialize(session.Ticket);
    }

    public Task RemoveAsync(string key) => RemoveAsync(key, CancellationToken.None);

    public async Task RemoveAsync(string key, CancellationToken cancellationToken)
    {
        var hash = Hash(key);
        await using var db = store.CreateDbContext();
        await db.DashboardSessions.Where(s => s.Id == hash).ExecuteDeleteAsync(cancellationToken);
    }

    private static long ExpiryOf(AuthenticationTicket ticket, DateTimeOffset now) =>
        (ticket.Properties.ExpiresUtc ?? now + DashboardSetup.SessionLifetime).ToUnixTimeSeconds();

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
}

internal static class DashboardSessionWiring
{
    /// <summary>The cookie scheme keeps its tickets in <see cref="DashboardSessionStore"/>.</summary>
    public static void AddDashboardSessions(this IServiceCollection services)
    {
        services.AddSingleton<DashboardSessionStore>();
        services.AddOptions<CookieAuthenticationOptions>(DashboardSetup.Scheme)
            .Configure<DashboardSessionStore>((options, sessions) => options.SessionStore = sessions);
    }
}
