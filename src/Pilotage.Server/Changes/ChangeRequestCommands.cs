using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Specs;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Changes;

/// <summary>
/// Change requests: list and show them, approve (four-eyes for high risk), reject, withdraw, and apply
/// (behind the regression gate when the system has one). Applying puts the candidate configuration in
/// force as a new config version, audited with the request's id; the gateway uses it from the next request.
/// </summary>
public sealed class ChangeRequestCommands(ControlPlane control)
{
    /// <summary>Approves as <paramref name="actor"/> (owner or admin; four eyes for a high-risk system).</summary>
    public Task<ChangeRequestView> ApproveAsync(long id, string? requestReason, Actor actor, CancellationToken ct)
    {
        var reason = Reason(requestReason, required: false);
        return control.ExecuteAsync(actor.Email, async command =>
        {
            var (change, system) = await LoadAsync(command, id, actor, ct);
            CheckOwnerOrAdmin(actor, system, "approve");
            if (ChangeStatuses.Parse(change.Status) != ChangeStatus.Open) throw Problems.Conflict($"change request {id} is {change.Status}; only an open request can be approved");
            if (system.Risk == "high" && string.Equals(change.RequestedBy, actor.Email, StringComparison.OrdinalIgnoreCase))
            {
                throw Problems.Forbidden($"'{system.Slug}' is high risk: a change needs four eyes, so {actor.Email} cannot approve their own request {id}; ask its owner {system.Owner} or an admin");
            }
            return Decide(command, change, system, ChangeStatus.Approved, actor, reason);
        }, ct);
    }

    /// <summary>Rejects as <paramref name="actor"/> (owner or admin; a reason is required).</summary>
    public Task<ChangeRequestView> RejectAsync(long id, string? requestReason, Actor actor, CancellationToken ct)
    {
        var reason = Reason(requestReason, required: true) ?? "";
        return control.ExecuteAsync(actor.Email, async command =>
        {
            var (change, system) = await LoadAsync(command, id, actor, ct);
            CheckOwnerOrAdmin(actor, system, "reject");
            if (!ChangeStatuses.IsPending(change.Status)) throw Problems.Conflict($"change request {id} is {change.Status}; only an open or approved request can be rejected");
            return Decide(command, change, system, ChangeStatus.Rejected, actor, reason);
        }, ct);
    }

    /// <summary>Withdraws an open or approved request (its requester, the owner or an admin).</summary>
    public Task<ChangeRequestView> WithdrawAsync(long id, string? requestReason, Actor actor, CancellationToken ct)
    {
        var reason = Reason(requestReason, required: false);
        return control.ExecuteAsync(actor.Email, async command =>
        {
            var (change, system) = await LoadAsync(command, id, actor, ct);
            if (!string.Equals(change.RequestedBy, actor.Email, StringComparison.OrdinalIgnoreCase)) CheckOwnerOrAdmin(actor, system, "withdraw");
            if (!ChangeStatuses.IsPending(change.Status)) throw Problems.Conflict($"change request {id} is {change.Status}; only an open or approved request can be withdrawn");
            change.Status = ChangeStatus.Withdrawn.Name();
            change.DecidedBy ??= actor.Email;
            change.DecidedAt ??= command.Now;
            change.DecisionReason = reason ?? change.DecisionReason;
            var view = ChangeRequestView.From(change, system.Risk);
            command.Audit("change.withdrawn", $"system:{system.Slug}", null, Json(view));
            return view;
        }, ct);
    }

    /// <summary>Applies as <paramref name="actor"/>; <c>Refused</c> when the regression gate said no (the check is kept on the request).</summary>
    public async Task<(ChangeRequestView View, bool Refused)> ApplyAsync(long id, string? requestReason, Actor actor, CancellationToken ct)
    {
        var reason = Reason(requestReason, required: false);
        return await control.ExecuteAsync(actor.Email, async command =>
        {
            var (change, system) = await LoadAsync(command, id, actor, ct);
            CheckOwnerOrAdmin(actor, system, "apply");
            if (ChangeStatuses.Parse(change.Status) == ChangeStatus.Open)
            {
                throw Problems.Conflict(system.Risk == "high"
                    ? $"change request {id} is not approved yet; '{system.Slug}' is high risk, so someone other than {change.RequestedBy} must approve it: pilotage change approve {id}"
                    : $"change request {id} is not approved yet: pilotage change approve {id}");
            }
            if (ChangeStatuses.Parse(change.Status) != ChangeStatus.Approved) throw Problems.Conflict($"change request {id} is {change.Status}; only an approved request can be applied");
            if (system.ConfigVersion != change.BaseVersion)
            {
                throw Problems.Conflict($"the configuration of '{system.Slug}' changed since request {id} was made (version {change.BaseVersion}, now {system.ConfigVersion}); withdraw it and apply the spec again to request the change against the version in force");
            }
            var live = SpecCanonicalJson.Deserialize(system.SpecJson);
            var candidate = SpecCanonicalJson.Deserialize(change.SpecJson);
            // The gate in force decides; a request that adds a gate is checked by it too.
            if ((live.ChangeControl.RegressionGate ?? candidate.ChangeControl.RegressionGate) is { } gate)
            {
                var result = await RegressionGate.CheckAsync(command.Db, system, change, gate, command.Now, ct);
                change.Gate = JsonSerializer.Serialize(result, ChangesJsonContext.Default.RegressionGateResult);
                if (!result.Passed)
                {
                    var refusedView = ChangeRequestView.From(change, system.Risk);
                    command.Audit("change.gate_refused", $"system:{system.Slug}", null, Json(refusedView));
                    return (refusedView, true);
                }
            }
            var next = ChangeControl.WithControlled(live, candidate);
            var before = system.SpecJson;
            var number = await command.Db.ConfigVersions.Where(v => v.SystemId == system.Id).MaxAsync(v => (int?)v.Version, ct) is { } max ? max + 1 : 1;
            system.SpecJson = SpecCanonicalJson.Serialize(next);
            system.SpecHash = SpecCanonicalJson.Hash(next);
            system.UpdatedAt = command.Now;
            system.ConfigVersion = number;
            ConfigVersions.Add(command, system, next, $"{actor.Email} (change request {id})");
            change.Status = ChangeStatus.Applied.Name();
            change.AppliedBy = actor.Email;
            change.AppliedAt = command.Now;
            change.AppliedVersion = number;
            if (reason is not null) change.DecisionReason ??= reason;
            var applied = ChangeRequestView.From(change, system.Risk);
            var after = JsonNode.Parse(Json(applied))!.AsObject();
            after["spec"] = JsonNode.Parse(system.SpecJson);
            command.Audit("change.applied", $"system:{system.Slug}", before, after.ToJsonString());
            return (applied, false);
        }, ct);
    }

    /// <summary>What a refused apply says, in the API's problem and on the dashboard.</summary>
    public static string GateRefusal(long id, RegressionGateResult gateResult) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"change request {id} lowers pass_rate on '{gateResult.TestSet}' from {gateResult.BaselinePassRate:0.###} (version {gateResult.BaselineVersion}, run {gateResult.BaselineRun}) to {gateResult.CandidatePassRate:0.###} (run {gateResult.CandidateRun}): a drop of {gateResult.Drop:0.###}, more than the {gateResult.MaxPassRateDrop:0.###} the spec allows; nothing was applied. Fix the candidate and request again, or change changeControl.regressionGate");

    /// <summary>The request and its system; a request of a system the caller may not read (and did not make) is not found.</summary>
    /// <summary>Records an owner's or admin's decision on the request and audits it as <c>change.approved</c> or <c>change.rejected</c>.</summary>
    private static ChangeRequestView Decide(CommandContext command, ChangeRequestRow change, AiSystemRow system, ChangeStatus status, Actor actor, string? reason)
    {
        change.Status = status.Name();
        change.DecidedBy = actor.Email;
        change.DecidedAt = command.Now;
        change.DecisionReason = reason;
        var view = ChangeRequestView.From(change, system.Risk);
        command.Audit($"change.{status.Name()}", $"system:{system.Slug}", null, Json(view));
        return view;
    }

    private static async Task<(ChangeRequestRow Change, AiSystemRow System)> LoadAsync(CommandContext command, long id, Actor actor, CancellationToken ct)
    {
        var change = await command.Db.ChangeRequests.SingleOrDefaultAsync(c => c.Id == id, ct) ?? throw NotFound(id);
        var system = await command.Db.Systems.SingleOrDefaultAsync(s => s.Slug == change.System, ct)
            ?? throw Problems.Conflict($"the system '{change.System}' of change request {id} no longer exists");
        var requester = string.Equals(change.RequestedBy, actor.Email, StringComparison.OrdinalIgnoreCase);
        if (!requester && !SystemScope.MayRead(actor.Person, system)) throw NotFound(id);
        return (change, system);
    }

    private static void CheckOwnerOrAdmin(Actor actor, AiSystemRow system, string verb)
    {
        if (actor.Role != Role.Admin && !string.Equals(system.Owner, actor.Email, StringComparison.OrdinalIgnoreCase))
        {
            throw Problems.Forbidden($"'{system.Slug}' is owned by {system.Owner}; only its owner or an admin may {verb} its change requests");
        }
    }

    private static string? Reason(string? requestReason, bool required)
    {
        var reason = requestReason?.Trim();
        if (string.IsNullOrEmpty(reason))
        {
            return required ? throw Problems.BadRequest("a reason is required: say why, it is kept in the audit trail") : null;
        }
        return reason.Length > 4000 ? throw Problems.BadRequest("the reason is longer than 4000 characters") : reason;
    }

    internal static CommandRefusedException NotFound(long id) => Problems.NotFound($"no change request {id}; 'pilotage changes' lists the ones you may see");

    private static string Json(ChangeRequestView view) => JsonSerializer.Serialize(view, ChangesJsonContext.Default.ChangeRequestView);
}
