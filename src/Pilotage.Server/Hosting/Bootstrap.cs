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
        var generated = await control.ExecuteAsync("pilotage", async command =>
        {
            var admin = await command.Db.Users.SingleOrDefaultAsync(u => u.Email == AdminEmail, ct);
            if (admin is null)
            {
                admin = new UserRow { Email = AdminEmail, DisplayName = "Bootstrap admin", Role = Role.Admin.ToName(), CreatedAt = command.Now };
                command.Db.Users.Add(admin);
                await command.Db.SaveChangesAsync(ct);
                command.Audit("user.created", $"user:{AdminEmail}", null, """{"role":"admin","reason":"bootstrap"}""");
            }
            if (chosen is not null)
            {
                var id = ApiKeyToken.IdOf(chosen);
                var key = await command.Db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id, ct);
                if (key is null)
                {
                    command.Db.ApiKeys.Add(new ApiKeyRow { Id = id, UserId = admin.Id, Name = "PILOTAGE_ADMIN_TOKEN", SecretHash = ApiKeyToken.Hash(chosen), CreatedAt = command.Now });
                    command.Audit("key.created", $"key:{id}", null, """{"user":"admin@localhost","reason":"PILOTAGE_ADMIN_TOKEN"}""");
                }
                else if (!ApiKeyToken.Matches(chosen, key.SecretHash) || key.RevokedAt is not null)
                {
                    // The operator set a new token: it replaces the old bootstrap secret.
                    key.SecretHash = ApiKeyToken.Hash(chosen);
                    key.RevokedAt = null;
                    command.Audit("key.rotated", $"key:{id}", null, """{"reason":"PILOTAGE_ADMIN_TOKEN changed"}""");
                }
                return null;
            }
            var anyAdminKey = await command.Db.ApiKeys.AnyAsync(k => k.User!.Role == "admin" && k.RevokedAt == null, ct);
            if (anyAdminKey) return null;
            var (newId, token) = ApiKeyToken.Generate();
            command.Db.ApiKeys.Add(new ApiKeyRow { Id = newId, UserId = admin.Id, Name = "bootstrap", SecretHash = ApiKeyToken.Hash(token), CreatedAt = command.Now });
            command.Audit("key.created", $"key:{newId}", null, """{"user":"admin@localhost","reason":"bootstrap, generated"}""");
            return token;
        }, ct);

        if (generated is null) return;
        var announce = options.Announce ?? Console.Out;
        var saved = SaveCredentials(serverAddress, generated);
        await announce.WriteLineAsync("A bootstrap admin token was generated. It is shown this once:");
        await announce.WriteLineAsync($"  {generated}");
        await announce.WriteLineAsync(saved is null
            ? "Keep it: export PILOTAGE_TOKEN=<token> for the CLI."
            : $"It was saved for the CLI in {saved} (readable only by you). Create personal keys with 'pilotage keys create'.");
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
