using Pilotage.Core.DataBoundary;
using Pilotage.Core.Gateway;
using Pilotage.Core.Specs;

namespace Pilotage.Server.Gateway;

/// <summary>
/// The data boundary: one scan of the request in the common model, which is every field that reaches the model
/// whatever protocol the client spoke. Redacts in place; a blocked detector refuses (422) before anything is sent.
/// </summary>
internal sealed class DataBoundaryStage(Hosting.PilotageServerOptions options)
{
    public (ScrubResult Result, Refusal? Refusal) Apply(AdmittedRequest request)
    {
        var system = request.System;
        // A budget for the request's custom patterns (none to keep when the spec declares none).
        var budget = system.Boundary.HasCustomDetectors ? new BoundaryBudget(options.DataBoundaryBudget) : null;
        var body = request.Request.Body;
        var scrub = request.Subject.Arrival.Operation == GatewayOperation.Chat
            ? RequestScrubber.ScrubChatCompletion(body, system.Boundary, budget)
            : RequestScrubber.ScrubEmbeddings(body, system.Boundary, budget);
        return (scrub, scrub.Blocked ? Refusal.Refused(RefusalOf(system.State.Spec, scrub)) : null);
    }

    internal static GatewayRefusal RefusalOf(SystemSpec spec, ScrubResult scrub)
    {
        if (scrub.BudgetExceededBy is { } detector) return Upstreams.UpstreamRefusals.BoundaryBudget(spec, detector);
        if (scrub.Uninspectable.Count > 0 && scrub.BlockedBy.Count == 0)
        {
            return new GatewayRefusal(422, "data_boundary_uninspectable",
                $"'{spec.Name}' has a data boundary and this input cannot be inspected (token ids); send text instead. Nothing was sent to the model.");
        }
        return new GatewayRefusal(422, "data_boundary_blocked",
            $"the request contains {string.Join(", ", scrub.BlockedBy.Select(Describe))}, which '{spec.Name}' must not receive. Remove it and send again; nothing was sent to the model.");

        static string Describe(string detector) => detector switch
        {
            "credit_card" => "a credit card number",
            "iban" => "an IBAN",
            "email" => "an e-mail address",
            "phone" => "a phone number",
            _ => $"data matching '{detector}'",
        };
    }
}
