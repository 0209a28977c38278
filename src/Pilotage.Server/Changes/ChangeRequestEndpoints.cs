using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Specs;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Changes;

/// <summary>
/// Change requests: list and show them, approve (four-eyes for high risk), reject, withdraw, and apply
/// (behind the regression gate when the system has one). Applying puts the candidate configuration in
/// force as a new config version, audited with the request's id; the gateway uses it from the next request.
/// </summary>
public static class ChangeRequestEndpoints
{
    public static void MapChangeRequests(this IEndpointRouteBuilder api)
    {
        var changes = api.MapGroup("/changes").WithTags("Change control");
        changes.MapGet("/", (string? system, string? status, HttpContext http, PilotageStore store, SystemScope scope, CancellationToken ct) =>
                ListAsync(system, status, store, ct, scope.Restriction(Actor.From(http.User).Person)))
            .RequirePermission(Permission.SystemsRead)
            .WithSummary("Change requests of the systems you may see, newest first; ?system= and ?status= (open, approved, rejected, applied, withdrawn) narrow the list");
        changes.MapGet("/{id:long}", GetAsync).RequirePermission(Permission.SystemsRead)
            .WithSummary("One change request with its diff and the last regression gate check");
        changes.MapPost("/{id:long}/approve", ApproveAsync).RequirePermission(Permission.SystemsOperate)
            .WithSummary("Approve a change request (owner or admin); for a high-risk system the approver must not be the requester");
        changes.MapPost("/{id:long}/reject", RejectAsync).RequirePermission(Permission.SystemsOperate)
            .WithSummary("Reject a change request (owner or admin); a reason is required");
        changes.MapPost("/{id:long}/withdraw", WithdrawAsync).RequirePermission(Permission.SystemsOperate)
            .WithSummary("Withdraw an open or approved change request (its requester, the owner or an admin)");
        changes.MapPost("/{id:long}/apply", ApplyAsync).RequirePermission(Permission.SystemsOperate)
            .WithSummary("Put an approved change request in force as a new config version, if the regression gate passes");
        api.MapGet("/systems/{slug}/changes", (string slug, string? status, PilotageStore store, CancellationToken ct) => ListAsync(slug, status, store, ct))
            .RequirePermission(Permission.SystemsRead).WithTags("Change control")
            .WithSummary("Change requests of one system, newest first");
        api.MapGet("/systems/{slug}/metrics/versions", ByVersionAsync).RequirePermission(Permission.SystemsRead).WithTags("Change control")
            .WithSummary("Key metrics per config version, side by side (evidence is kept per version)");
    }

    private static readonly string[] Statuses = ["open", "approved", "rejected", "applied", "withdrawn"];

    /// <summary>The list the API answers; the dashboard's system page shows the same.</summary>
    /// <param name="readable">The systems the caller may read; null for every system.</param>
    public static async Task<IReadOnlyList<ChangeRequestView>> ListAsync(string? system, string? status, PilotageStore store, CancellationToken ct, IReadOnlySet<string>? readable = null)
    {
        if (status is not null && !Statuses.Contains(status)) throw Problems.BadRequest($"status must be one of {string.Join(", ", Statuses)}");
        await using var db = store.CreateDbContext();
        var query = db.ChangeRequests.AsNoTracking();
        if (!string.IsNullOrEmpty(system)) query = query.Where(c => c.System == system);
        if (status is not null) query = query.Where(c => c.Status == status);
        if (readable is not null)
        {
            var mine = readable.ToList();
            query = query.Where(c => mine.Contains(c.System));
        }
        var rows = await query.OrderByDescending(c => c.Id).Take(200).ToListAsync(ct);
        var slugs = rows.Select(r => r.System).Distinct().ToList();
        var risks = await db.Systems.AsNoTracking().Where(s => slugs.Contains(s.Slug)).ToDictionaryAsync(s => s.Slug, s => s.Risk, ct);
        return rows.Select(r => ChangeRequestView.From(r, risks.GetValueOrDefault(r.System, "unknown"))).ToList();
    }

    private static async Task<ChangeRequestView> GetAsync(long id, HttpContext http, PilotageStore store, SystemScope scope, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var row = await db.ChangeRequests.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, ct);
        if (row is null || !scope.MayRead(Actor.From(http.User).Person, row.System)) throw NotFound(id);
        var risk = await db.Systems.AsNoTracking().Where(s => s.Slug == row.System).Select(s => s.Risk).SingleOrDefaultAsync(ct);
        return ChangeRequestView.From(row, risk ?? "unknown");
    }

    private static Task<ChangeRequestView> ApproveAsync(long id, ChangeDecisionRequest? request, HttpContext http, ControlPlane control, CancellationToken ct) =>
        ApproveChangeAsync(id, request?.Reason, Actor.From(http.User), control, ct);

    /// <summary>Approves as <paramref name="actor"/>: the API endpoint and the dashboard's form.</summary>
    public static Task<ChangeRequestView> ApproveChangeAsync(long id, string? requestReason, Actor actor, ControlPlane control, CancellationToken ct)
    {
        var reason = Reason(requestReason, required: false);
        return control.ExecuteAsync(actor.Email, async command =>
        {
            var (change, system) = await LoadAsync(command, id, actor, ct);
            CheckOwnerOrAdmin(actor, system, "approve");
            if (change.Status != "open") throw Problems.Conflict($"change request {id} is {change.Status}; only an open request can be approved");
            if (system.Risk == "high" && string.Equals(change.RequestedBy, actor.Email, StringComparison.OrdinalIgnoreCase))
            {
                throw Problems.Forbidden($"'{system.Slug}' is high risk: a change needs four eyes, so {actor.Email} cannot approve their own request {id}; ask its owner {system.Owner} or an admin");
            }
            change.Status = "approved";
            change.DecidedBy = actor.Email;
            change.DecidedAt = command.Now;
            change.DecisionReason = reason;
            var view = ChangeRequestView.From(change, system.Risk);
            command.Audit("change.approved", $"system:{system.Slug}", null, Json(view));
            return view;
        }, ct);
    }

    private static Task<ChangeRequestView> RejectAsync(long id, ChangeDecisionRequest? request, HttpContext http, ControlPlane control, CancellationToken ct) =>
        RejectChangeAsync(id, request?.Reason, Actor.From(http.User), control, ct);

    /// <summary>Rejects as <paramref name="actor"/>: the API endpoint and the dashboard's form.</summary>
    public static Task<ChangeRequestView> RejectChangeAsync(long id, string? requestReason, Actor actor, ControlPlane control, CancellationToken ct)
    {
        var reason = Reason(requestReason, required: true) ?? "";
        return control.ExecuteAsync(actor.Email, async command =>
        {
            var (change, system) = await LoadAsync(command, id, actor, ct);
            CheckOwnerOrAdmin(actor, system, "reject");
            if (change.Status is not ("open" or "approved")) throw Problems.Conflict($"change request {id} is {change.Status}; only an open or approved request can be rejected");
            change.Status = "rejected";
            change.DecidedBy = actor.Email;
            change.DecidedAt = command.Now;
            change.DecisionReason = reason;
            var view = ChangeRequestView.From(change, system.Risk);
            command.Audit("change.rejected", $"system:{system.Slug}", null, Json(view));
            return view;
        }, ct);
    }

    private static Task<ChangeRequestView> WithdrawAsync(long id, ChangeDecisionRequest? request, HttpContext http, ControlPlane control, CancellationToken ct)
    {
        var actor = Actor.From(http.User);
        var reason = Reason(request?.Reason, required: false);
        return control.ExecuteAsync(actor.Email, async command =>
        {
            var (change, system) = await LoadAsync(command, id, actor, ct);
            if (!string.Equals(change.RequestedBy, actor.Email, StringComparison.OrdinalIgnoreCase)) CheckOwnerOrAdmin(actor, system, "withdraw");
            if (change.Status is not ("open" or "approved")) throw Problems.Conflict($"change request {id} is {change.Status}; only an open or approved request can be withdrawn");
            change.Status = "withdrawn";
            change.DecidedBy ??= actor.Email;
            change.DecidedAt ??= command.Now;
            change.DecisionReason = reason ?? change.DecisionReason;
            var view = ChangeRequestView.From(change, system.Risk);
            command.Audit("change.withdrawn", $"system:{system.Slug}", null, Json(view));
            return view;
        }, ct);
    }

    private static async Task<IResult> ApplyAsync(long id, ChangeDecisionRequest? request, HttpContext http, ControlPlane control, CancellationToken ct)
    {
        var (view, refused) = await ApplyChangeAsync(id, request?.Reason, Actor.From(http.User), control, ct);
        if (!refused) return Results.Ok(view);
        var gateResult = view.Gate!;
        return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Regression gate refused",
            detail: GateRefusal(id, gateResult), extensions: new Dictionary<string, object?> { ["gate"] = gateResult });
    }

    /// <summary>Applies as <paramref name="actor"/>; <c>Refused</c> when the regression gate said no (the check is kept on the request).</summary>
    public static async Task<(ChangeRequestView View, bool Refused)> ApplyChangeAsync(long id, string? requestReason, Actor actor, ControlPlane control, CancellationToken ct)
    {
        var reason = Reason(requestReason, required: false);
        return await control.ExecuteAsync(actor.Email, async command =>
        {
            var (change, system) = await LoadAsync(command, id, actor, ct);
            CheckOwnerOrAdmin(actor, system, "apply");
            if (change.Status == "open")
            {
                throw Problems.Conflict(system.Risk == "high"
                    ? $"change request {id} is not approved yet; '{system.Slug}' is high risk, so someone other than {change.RequestedBy} must approve it: pilotage change approve {id}"
                    : $"change request {id} is not approved yet: pilotage change approve {id}");
            }
            if (change.Status != "approved") throw Problems.Conflict($"change request {id} is {change.Status}; only an approved request can be applied");
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
            change.Status = "applied";
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

    /// <summary>Key metrics per config version: the API's answer and the dashboard's table.</summary>
    public static async Task<IReadOnlyList<VersionMetricsView>> ByVersionAsync(string slug, PilotageStore store, SystemMetrics metrics, CancellationToken ct)
    {
        List<ConfigVersionRow> versions;
        int current;
        await using (var db = store.CreateDbContext())
        {
            var system = await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct)
                ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
            current = system.ConfigVersion;
            versions = await db.ConfigVersions.AsNoTracking().Where(v => v.SystemId == system.Id).OrderBy(v => v.Version).ToListAsync(ct);
        }
        var views = new List<VersionMetricsView>();
        foreach (var version in versions)
        {
            var computed = await metrics.ComputeAsync(slug, new MetricFilter(ConfigVersion: version.Version), ct);
            var key = KeyMetrics.Where(computed.Metrics.ContainsKey).ToDictionary(m => m, m => computed.Metrics[m], StringComparer.Ordinal);
            views.Add(new VersionMetricsView(version.Version, version.Version == current, version.CreatedAt, version.CreatedBy, key));
        }
        return views;
    }

    /// <summary>The figures that tell two configurations apart: quality, failures, speed, cost, satisfaction, tests.</summary>
    public static readonly IReadOnlyList<string> KeyMetrics =
        ["acceptance_rate", "edit_rate", "rejection_rate", "escalation_rate", "rework", "error_rate", "blocked_rate", "latency_p95", "cost_per_task", "feedback_mean", "pass_rate"];

    /// <summary>The request and its system; a request of a system the caller may not read (and did not make) is not found.</summary>
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

    private static CommandRefusedException NotFound(long id) => Problems.NotFound($"no change request {id}; 'pilotage changes' lists the ones you may see");

    private static string Json(ChangeRequestView view) => JsonSerializer.Serialize(view, ChangesJsonContext.Default.ChangeRequestView);
}
