using Pilotage.Core.DataBoundary;
using Pilotage.Core.Evidence;
using Pilotage.Core.Gateway;
using Pilotage.Core.Specs;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>
/// The data boundary: one scan of the request in the common model, which is every field that reaches the model
/// whatever protocol the client spoke. Redacts in place; a blocked detector refuses (422) before anything is sent.
/// With <c>dataBoundary.answers</c>, the model's answers go through it too, whole or chunk by chunk, before any
/// protocol renders them (so every client protocol gets the same filtered text, and the evidence keeps it).
/// </summary>
internal sealed class DataBoundaryStage(GatewayOptions options)
{
    /// <summary>
    /// The scan of the request, and its refusal when it refuses. <c>Elements</c> is set when the body was scanned as parsed
    /// (<see cref="ConfiguredChatBody.Applies"/>), with what it redacted: the body is then written from its elements, and its
    /// tree is never built. It is null when the tree was scanned (and redacted in place): every other request, and a body
    /// with a hit in a property name, whose tree renames the key.
    /// </summary>
    public (ScrubResult Result, Refusal? Refusal, RedactedElements? Elements) Apply(AdmittedRequest request)
    {
        var system = request.System;
        // One budget for the request: a body left to the tree after a part of its elements was scanned is scanned within
        // what is left of it, so that the two scans together take no longer than one may.
        var budget = BudgetFor(system);
        if (ConfiguredChatBody.Applies(request)
            && RequestScrubber.Scrub(request.Request.Received!.Value, system.Boundary, budget, out var elements) is { } found)
        {
            return (found, found.Blocked ? Refusal.Refused(RefusalOf(system.State.Spec, found)) : null, elements);
        }
        var (result, refusal) = ApplyToTree(request, budget);
        return (result, refusal, null);
    }

    /// <summary>The scan of the request's tree (and of the client's own body when it passes through), redacted in place.</summary>
    private (ScrubResult Result, Refusal? Refusal) ApplyToTree(AdmittedRequest request, BoundaryBudget? budget)
    {
        var system = request.System;
        // After the boundary the bodies are only configured and serialised: a redacted message goes back as the request's
        // own UTF-8 with its placeholders (RedactedValues.Utf8), never as a string of its size.
        var scrub = RequestScrubber.Scrub(request.Request.Body, system.Boundary, budget, RedactedValues.Utf8);
        if (request.Request.Native is not { } native || scrub.Blocked) return (scrub, scrub.Blocked ? Refusal.Refused(RefusalOf(system.State.Spec, scrub)) : null);
        // Passed through: what is sent is the client's own body, every field of it (known to the common model or
        // not) is scanned and redacted there. The common model (the evidence) was scanned too: it joins some texts
        // the body keeps apart (Anthropic's text blocks), so data split across them shows as more hits there.
        var sent = RequestScrubber.Scrub(native, system.Boundary, BudgetFor(system), RedactedValues.Utf8);
        if (sent.Blocked) return (sent, Refusal.Refused(RefusalOf(system.State.Spec, sent)));
        if (scrub.Hits.Count > sent.Hits.Count)
        {
            var split = string.Join(", ", scrub.Hits.Select(h => h.Hit.Detector).Distinct(StringComparer.Ordinal));
            return (scrub, Refusal.Refused(new GatewayRefusal(422, RefusalCodes.DataBoundaryBlocked,
                $"the request spreads data ({split}) over several fields that the model reads as one text, where '{system.State.Spec.Name}' cannot redact it. Send it in one field, or remove it; nothing was sent to the model.")));
        }
        return (sent, null);
    }

    /// <summary>
    /// A whole chat answer through the answer boundary: the bytes to release (the same array when nothing
    /// changed, or when the system filters no answers), or the refusal that withholds it.
    /// </summary>
    public (byte[] Answer, Refusal? Refusal) FilterAnswer(AdmittedRequest request, byte[] answer)
    {
        if (request.System.Boundary.Answers is not { } answers || request.Subject.Arrival.Operation != GatewayOperation.Chat) return (answer, null);
        var filtered = answers.Filter(answer, out var found, BudgetFor(request.System));
        return (filtered, found.Blocked ? new Refusal(AnswerBlocked(request.System.State.Spec, found.BlockedBy), RefusalRecord.RefusedAfterAnswer) : null);
    }

    /// <summary>A filter for one streamed answer, or null when the system filters no answers.</summary>
    public StreamedAnswerFilter? StreamFilter(AdmittedRequest request) =>
        request.System.Boundary.Answers?.Stream(BudgetFor(request.System));

    internal static GatewayRefusal AnswerBlocked(SystemSpec spec, IEnumerable<string> blockedBy) =>
        new(422, "data_boundary_answer_blocked",
            $"the model's answer contained data ({string.Join(", ", blockedBy)}) that '{spec.Name}' must not release, so it was withheld. Rephrase the request; the owner {spec.Owner} can see the interaction.");

    /// <summary>A budget for the timed custom patterns of one request (none when the spec has none: the rest is linear).</summary>
    private BoundaryBudget? BudgetFor(GatewaySystem system) =>
        system.Boundary.HasTimedPatterns ? new BoundaryBudget(options.DataBoundaryBudget) : null;

    internal static GatewayRefusal RefusalOf(SystemSpec spec, ScrubResult scrub)
    {
        if (scrub.BudgetExceededBy is { } detector) return Upstreams.UpstreamRefusals.BoundaryBudget(spec, detector);
        if (scrub.Uninspectable.Count > 0 && scrub.BlockedBy.Count == 0)
        {
            return new GatewayRefusal(422, RefusalCodes.DataBoundaryUninspectable,
                $"'{spec.Name}' has a data boundary and this input cannot be inspected (token ids); send text instead. Nothing was sent to the model.");
        }
        return new GatewayRefusal(422, RefusalCodes.DataBoundaryBlocked,
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
