using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Pilotage.Core.Specs;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Changes;

/// <summary>
/// The numbered versions of a system's configuration: what an apply, an approved change request and a
/// rollback (by hand or by a pause rule) each add. Version numbers only grow.
/// </summary>
public static class ConfigVersions
{
    internal static void Add(CommandContext command, AiSystemRow row, SystemSpec spec, string? createdBy = null)
    {
        // The versioned part: what is sent to the model. Stored whole so a rollback needs no reconstruction.
        var versioned = SpecCanonicalJson.Serialize(spec with
        {
            Title = null, Purpose = "", Owner = "", DataBoundary = new(), Training = new(), Review = new(),
            Baseline = new(), Pilot = null, Rollout = [], PauseRules = [],
        });
        command.Db.ConfigVersions.Add(new ConfigVersionRow
        {
            SystemId = row.Id,
            Version = row.ConfigVersion,
            ConfigJson = versioned,
            Hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(versioned))),
            CreatedAt = command.Now,
            CreatedBy = createdBy ?? command.Actor,
        });
    }

    /// <summary>
    /// Puts an earlier version's configuration and upstream in force as a NEW version number (version
    /// numbers only grow, so a later apply, which adds one, never collides with an existing version),
    /// and audits <c>system.config_rolled_back</c>. Shared by the rollback pause-rule action and the
    /// rollback endpoint; the caller's command commit refreshes the gateway's snapshot.
    /// </summary>
    /// <returns>The new version number, now in force.</returns>
    internal static int Restore(CommandContext command, AiSystemRow row, SystemSpec spec, ConfigVersionRow previous, int number, string createdBy, string reason)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(previous);
        var restored = SpecCanonicalJson.Deserialize(previous.ConfigJson);
        var next = spec with { Config = restored.Config, Upstream = restored.Upstream };
        var before = VersionJson(row.ConfigVersion, spec);
        var json = SpecCanonicalJson.Serialize(next);
        row.SpecJson = json;
        row.SpecHash = SpecCanonicalJson.Hash(next);
        row.UpdatedAt = command.Now;
        row.ConfigVersion = number;
        var versioned = SpecCanonicalJson.Serialize(next with
        {
            Title = null, Purpose = "", Owner = "", DataBoundary = new(), Training = new(), Review = new(),
            Baseline = new(), Pilot = null, Rollout = [], PauseRules = [],
        });
        command.Db.ConfigVersions.Add(new ConfigVersionRow
        {
            SystemId = row.Id,
            Version = number,
            ConfigJson = versioned,
            Hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(versioned))),
            CreatedAt = command.Now,
            CreatedBy = createdBy,
        });
        var after = VersionJson(number, next);
        after["restoredFrom"] = previous.Version;
        after["reason"] = reason;
        command.Audit("system.config_rolled_back", $"system:{row.Slug}", before.ToJsonString(), after.ToJsonString());
        return number;
    }

    private static JsonObject VersionJson(int version, SystemSpec spec) => new()
    {
        ["configVersion"] = version,
        ["config"] = JsonNode.Parse(SpecCanonicalJson.Serialize(spec with
        {
            Title = null, Purpose = "", Owner = "", DataBoundary = new(), Training = new(), Review = new(),
            Baseline = new(), Pilot = null, Rollout = [], PauseRules = [],
        })),
    };
}
