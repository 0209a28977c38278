using Pilotage.Core.Access;
using Pilotage.Core.Gateway;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>
/// Resolves the system a request names in the policy snapshot, then admits the request or refuses it: an
/// evaluation run's mark, the serving decision (access, stage, pause, expiry), the key's rate, the budgets,
/// and the system's place among the calls in flight. Nothing here reads the request's content.
/// </summary>
internal sealed class Admission(EvalRunRegistry evalRuns, KeyRateLimits rateLimits, BudgetLedger budget, UpstreamLimits limits)
{
    public static Step<GatewaySystem> Resolve(PolicySnapshot snapshot, string model) =>
        snapshot.Systems.TryGetValue(model, out var system)
            ? system
            : Refusal.Rejected(404, "model_not_found", $"there is no AI system '{model}'. Use the system's name as the model; GET /v1/models lists the systems your key may use now.");

    /// <summary>
    /// The subject as far as it got (with its scope once decided), and the refusal when it is not admitted. A value task:
    /// the rate and budget checks nearly always complete at once, and a task of the result was made for every request.
    /// </summary>
    /// <param name="evaluable">Whether the operation can be a case of an evaluation run (chat only).</param>
    public async ValueTask<(Subject Subject, Refusal? Refusal)> AdmitAsync(HttpContext http, PolicySnapshot snapshot, Subject subject, GatewayAdmission places, bool evaluable)
    {
        var user = subject.Key.User;
        // A test case of an evaluation run is attached before the decision: the system's owner or an admin may
        // evaluate it without being one of its users (see CallerOf).
        if (evaluable && http.Request.Headers.TryGetValue(EvalRunRegistry.Header, out var evalHeader))
        {
            var (evalRefusal, mark, served) = await evalRuns.AttachAsync(evalHeader.ToString(), subject.System!, subject.Key, http.RequestAborted);
            if (evalRefusal is not null) return (subject, Refusal.Refused(evalRefusal));
            subject = subject with { Eval = mark, System = served };
        }
        var system = subject.System!;
        var decision = ServingPolicy.Decide(system.State, CallerOf(snapshot, user, system, evaluating: subject.Eval is not null), subject.Arrival.At);
        subject = subject with { Scope = decision.Scope };
        if (decision.Refusal is { } refused) return (subject, Refusal.Refused(refused));
        if (await rateLimits.CheckAsync(system.State.Spec, subject.Key.Id) is { } limited) return (subject, Refusal.Refused(limited, retryAfter: "60"));
        if (await budget.CheckAsync(system.State.Spec, user.Id, user.Email) is { } spent) return (subject, Refusal.Refused(spent));
        // The system's place needs the body's model, so it comes last; the request holds it from here on.
        if (limits.AdmitSystem(places, system.State.Slug) is { } busy) return (subject, Refusal.Refused(busy, retryAfter: "1"));
        return (subject, null);
    }

    /// <param name="evaluating">The request is a case of the caller's running evaluation run: its owner or an admin
    /// then evaluates the system without group or training (recorded as evaluation, never as use).</param>
    internal static Caller CallerOf(PolicySnapshot snapshot, Principal user, GatewaySystem system, bool evaluating = false) =>
        new(user.Id, user.Email, user.Groups, snapshot.HasTraining(user.Id, system.State.Id))
        {
            Evaluating = evaluating && (user.Role == Role.Admin
                || (user.Role == Role.Owner && string.Equals(user.Email, system.State.Spec.Owner, StringComparison.OrdinalIgnoreCase))),
        };
}
