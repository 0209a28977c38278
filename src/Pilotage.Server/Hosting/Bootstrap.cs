using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Hosting;

/// <summary>
/// Makes sure a fresh installation can be administered: an admin account and a bootstrap key, from
/// <c>PILOTAGE_ADMIN_TOKEN</c> or generated and shown once.
/// </summary>
public sealed class Bootstrap(ControlPlane control, PilotageServerOptions options, ILogger<Bootstrap> logger)
{
    public const string AdminEmail = "admin@localhost";

    public async Task EnsureAdminAsync(string serverAddress, CancellationToken ct)
    {
        var chosen = string.IsNullOrWhiteSpace(options.AdminToken) ? null : options.AdminToken.Trim();
        var outcome = await control.ExecuteAsync("pilotage", async command =>
        {
            var admin = await command.Db.Users.SingleOrDefaultAsync(u => u.Email == AdminEmail, ct);
            if (admin is null)
            {
                admin = new UserRow { Email = AdminEmail, DisplayName = "Bootstrap admin", Role = Role.Admin.ToName(), CreatedAt = command.Now };
                command.Db.Users.Add(admin);
                await command.Db.SaveChangesAsync(ct);
                command.Audit("user.created", $"user:{AdminEmail}", null, """{"role":"admin","reason":"bootstrap"}""");
            }
            if (chosen is not null) return await RegisterChosenAsync(command, admin, chosen, ct);
            var anyAdminKey = await command.Db.ApiKeys.AnyAsync(k => k.User!.Role == "admin" && k.RevokedAt == null, ct);
            if (anyAdminKey) return BootstrapOutcome.Nothing;
            var (newId, token) = ApiKeyToken.Generate();
            command.Db.ApiKeys.Add(new ApiKeyRow { Id = newId, UserId = admin.Id, Name = "bootstrap", SecretHash = ApiKeyToken.Hash(token), CreatedAt = command.Now });
            command.Audit("key.created", $"key:{newId}", null, """{"user":"admin@localhost","reason":"bootstrap, generated"}""");
            return new BootstrapOutcome(token, null);
        }, ct);

        if (outcome.Revoked is { } revoked)
        {
            logger.LogWarning("PILOTAGE_ADMIN_TOKEN is the bootstrap key {KeyId}, revoked at {RevokedAt:u}: it stays revoked and is refused. " +
                "Sign in with another admin key, or set PILOTAGE_ADMIN_TOKEN to a new value to mint a new bootstrap key", revoked.Id, revoked.RevokedAt);
        }
        if (outcome.Generated is not { } generated) return;
        var announce = options.Announce ?? Console.Out;
        var saved = SaveCredentials(serverAddress, generated);
        await announce.WriteLineAsync("A bootstrap admin token was generated. It is shown this once:");
        await announce.WriteLineAsync($"  {generated}");
        await announce.WriteLineAsync(saved is null
            ? "Keep it: export PILOTAGE_TOKEN=<token> for the CLI."
            : $"It was saved for the CLI in {saved} (readable only by you). Create personal keys with 'pilotage keys create'.");
    }

    /// <summary>What start-up has to tell the operator: a token it generated, or that the chosen one was revoked.</summary>
    private sealed record BootstrapOutcome(string? Generated, (string Id, DateTimeOffset RevokedAt)? Revoked)
    {
        public static BootstrapOutcome Nothing { get; } = new(null, null);
    }

    /// <summary>
    /// Registers <c>PILOTAGE_ADMIN_TOKEN</c>. A value seen before keeps its key as it is: once revoked, it stays revoked
    /// at every later start (a restart never undoes a revocation). A new value mints a new bootstrap key and revokes
    /// the previous one, each with its own audit entry saying so.
    /// </summary>
    private static async Task<BootstrapOutcome> RegisterChosenAsync(CommandContext command, UserRow admin, string chosen, CancellationToken ct)
    {
        var id = ApiKeyToken.IdOf(chosen);
        if (id != ApiKeyToken.BootstrapId)
        {
            // plt_<id>_…: the token names its key.
            var key = await command.Db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id, ct);
            if (key is null)
            {
                command.Db.ApiKeys.Add(new ApiKeyRow { Id = id, UserId = admin.Id, Name = "PILOTAGE_ADMIN_TOKEN", SecretHash = ApiKeyToken.Hash(chosen), CreatedAt = command.Now });
                command.Audit("key.created", $"key:{id}", null, """{"user":"admin@localhost","reason":"PILOTAGE_ADMIN_TOKEN"}""");
                return BootstrapOutcome.Nothing;
            }
            if (!ApiKeyToken.Matches(chosen, key.SecretHash))
            {
                // Taking the row over would turn someone else's key (and its holder) into this token.
                throw new InvalidOperationException($"PILOTAGE_ADMIN_TOKEN has the form of a Pilotage key with id '{id}', and key '{id}' already exists with another secret; choose another value (any text that does not start with plt_ will do)");
            }
            return key.RevokedAt is { } at ? new BootstrapOutcome(null, (key.Id, at)) : BootstrapOutcome.Nothing;
        }

        var bootstraps = (await command.Db.ApiKeys.Where(k => k.Id.StartsWith(ApiKeyToken.BootstrapId)).ToListAsync(ct))
            .Where(k => ApiKeyToken.BootstrapGeneration(k.Id) > 0)
            .OrderBy(k => ApiKeyToken.BootstrapGeneration(k.Id))
            .ToList();
        if (bootstraps.FirstOrDefault(k => ApiKeyToken.Matches(chosen, k.SecretHash)) is { } seen)
        {
            return seen.RevokedAt is { } at ? new BootstrapOutcome(null, (seen.Id, at)) : BootstrapOutcome.Nothing;
        }
        var previous = bootstraps.LastOrDefault();
        var newId = ApiKeyToken.BootstrapIdFor(previous is null ? 1 : ApiKeyToken.BootstrapGeneration(previous.Id) + 1);
        if (previous is { RevokedAt: null })
        {
            var before = KeyJson(previous.Id, previous.CreatedAt, null);
            previous.RevokedAt = command.Now;
            command.Audit("key.revoked", $"key:{previous.Id}", before, KeyJson(previous.Id, previous.CreatedAt, $"replaced by {newId}: PILOTAGE_ADMIN_TOKEN was set to a new value"));
        }
        command.Db.ApiKeys.Add(new ApiKeyRow { Id = newId, UserId = admin.Id, Name = "PILOTAGE_ADMIN_TOKEN", SecretHash = ApiKeyToken.Hash(chosen), CreatedAt = command.Now });
        command.Audit("key.created", $"key:{newId}", null, previous is null
            ? """{"user":"admin@localhost","reason":"PILOTAGE_ADMIN_TOKEN"}"""
            : new JsonObject { ["user"] = AdminEmail, ["reason"] = "PILOTAGE_ADMIN_TOKEN was set to a new value", ["replaces"] = previous.Id }.ToJsonString());
        return BootstrapOutcome.Nothing;
    }

    private static string KeyJson(string id, DateTimeOffset created, string? revokedBecause)
    {
        var json = new JsonObject { ["id"] = id, ["user"] = AdminEmail, ["createdAt"] = created, ["state"] = revokedBecause is null ? "active" : "revoked" };
        if (revokedBecause is not null) json["reason"] = revokedBecause;
        return json.ToJsonString();
    }

    /// <summary>Saves the token for this server in the CLI's credentials file, readable only by the user.</summary>
    private string? SaveCredentials(string serverAddress, string token)
    {
        var path = options.CredentialsPath ?? Credentials.DefaultPath();
        if (string.IsNullOrEmpty(path)) return null;
        try
        {
            Credentials.Save(path, serverAddress, token);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            logger.LogWarning("Could not save the bootstrap token to {Path}: {Reason}", path, e.Message);
            return null;
        }
    }
}

/// <summary>The CLI's credentials file: one token per server address, like a kubeconfig.</summary>
public static class Credentials
{
    public static string DefaultPath()
    {
        var root = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
        if (string.IsNullOrEmpty(root)) root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return Path.Combine(root, "pilotage", "credentials.json");
    }

    public static void Save(string path, string server, string token)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        var root = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? [] : [];
        var servers = root["servers"] as JsonObject ?? [];
        root["servers"] = servers;
        servers[Normalise(server)] = new JsonObject { ["token"] = token };
        var temp = path + ".tmp";
        File.WriteAllText(temp, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, path, overwrite: true);
    }

    public static string? Find(string path, string server)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return (JsonNode.Parse(File.ReadAllText(path))?["servers"]?[Normalise(server)]?["token"])?.GetValue<string>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    /// <summary>"localhost" and "127.0.0.1" name the same server; a trailing slash does not matter.</summary>
    public static string Normalise(string server) =>
        server.Trim().TrimEnd('/').Replace("://localhost", "://127.0.0.1", StringComparison.OrdinalIgnoreCase).ToLowerInvariant();
}
