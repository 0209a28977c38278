using System.Text.Json;
using Pilotage.Core.Evidence;
using Pilotage.Core.Gateway;
using Pilotage.Core.Specs;
using Pilotage.Server.Gateway.Protocols;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>
/// A whole answer under the scope's mode: served (after its record commits), held for review (approval),
/// recorded and not shown (shadow), or stopped at a side-effecting call (read-only).
/// </summary>
internal sealed class AnswerDelivery(InteractionRecorder recorder, RefusalWriter refusals, HeldAnswers held)
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    /// <param name="native">The upstream's answer as received, when it passes through to the client as it is.</param>
    public async Task DeliverAsync(HttpContext http, IClientProtocol protocol, AdmittedRequest request, Exchange exchange, byte[] answer, byte[]? native = null)
    {
        var subject = request.Subject;
        var system = request.System;
        var spec = system.State.Spec;
        if (request.Subject.Arrival.Operation == GatewayOperation.Embeddings)
        {
            // Vectors are not evidence anyone reads: keep the usage, not the numbers. For the same reason
            // approval mode serves them directly: there is nothing a reviewer could judge.
            exchange = exchange.WithText(null);
            if (request.Scope.Mode == ServingMode.Shadow)
            {
                await ShadowAsync(http, protocol, request, exchange);
                return;
            }
            await ServeAsync(http, protocol, request, exchange, answer, native);
            return;
        }
        string? blockedTool = null;
        if (request.Scope.Mode == ServingMode.ReadOnly)
        {
            try
            {
                blockedTool = SystemConfiguration.BlockedToolCall(JsonNode(answer), system.SideEffectingTools);
            }
            catch (InvalidDataException e)
            {
                await refusals.RefuseAsync(http, protocol, subject, exchange, Refusal.Failed(new GatewayRefusal(502, "upstream_malformed",
                    $"the model behind '{spec.Name}' called a function Pilotage cannot identify ({e.Message}); '{system.State.Slug}' is read-only, so the answer was not passed on and nothing was executed. Try again; if it persists, tell the owner {spec.Owner}.")));
                return;
            }
        }
        switch (request.Scope.Mode)
        {
            case ServingMode.Shadow:
                await ShadowAsync(http, protocol, request, exchange);
                return;
            case ServingMode.Approval:
                await held.HoldAsync(http, protocol, request, exchange);
                return;
            case ServingMode.ReadOnly when blockedTool is { } tool:
                await refusals.RefuseAsync(http, protocol, subject, exchange, new Refusal(new GatewayRefusal(403, RefusalCodes.SideEffectBlocked,
                    $"the model tried to call '{tool}', which changes things; '{system.State.Slug}' is read-only during its {request.Scope.Label}. Nothing was executed; do it through the usual process."),
                    RefusalRecord.RefusedAfterAnswer));
                return;
            default:
                await ServeAsync(http, protocol, request, exchange, answer, native);
                return;
        }
    }

    private static System.Text.Json.Nodes.JsonNode? JsonNode(byte[] answer) => System.Text.Json.Nodes.JsonNode.Parse(answer, documentOptions: ParseOptions);

    /// <summary>Durable mode: the answer is written only after its evidence record committed.</summary>
    private async Task ServeAsync(HttpContext http, IClientProtocol protocol, AdmittedRequest request, Exchange exchange, byte[] answer, byte[]? native)
    {
        if (await recorder.CommitAsync(request.Subject, exchange, InteractionOutcome.Served) is { } unavailable)
        {
            await protocol.WriteErrorAsync(http, unavailable, request.Id, request.Subject.Mode);
            return;
        }
        await AnswerRelease.WholeAsync(http, protocol, new ReleasedAnswer(StatusCodes.Status200OK, answer, request.Id, request.Subject.Mode, request.Request, Native: native));
    }

    private async Task ShadowAsync(HttpContext http, IClientProtocol protocol, AdmittedRequest request, Exchange exchange)
    {
        var refusal = new GatewayRefusal(423, "shadow_mode",
            $"'{request.System.State.Spec.Name}' runs in shadow mode during its {request.Scope.Label}: the model's answer is recorded for evaluation, not shown. {char.ToUpperInvariant(ServingPolicy.ManualProcess[0])}{ServingPolicy.ManualProcess[1..]}.");
        var unavailable = await recorder.CommitAsync(request.Subject, exchange, InteractionOutcome.Shadowed, refusal);
        await protocol.WriteErrorAsync(http, unavailable ?? refusal, request.Id, request.Subject.Mode);
    }
}
