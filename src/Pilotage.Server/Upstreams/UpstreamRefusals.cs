using Pilotage.Core.Gateway;
using Pilotage.Core.Specs;

namespace Pilotage.Server.Upstreams;

/// <summary>What the gateway answers when the operator's limits stop a request (docs/security.md).</summary>
internal static class UpstreamRefusals
{
    /// <summary>The spec names a variable the server does not send (a 502: the system's configuration is at fault, not the caller).</summary>
    public static GatewayRefusal Secret(SystemSpec spec, string reason) =>
        new(502, "upstream_secret_refused", $"'{spec.Name}' cannot call its model: {reason}. Nothing was sent. Tell the owner {spec.Owner}.");

    /// <summary>The address the upstream resolved to when connecting is one the gateway never calls.</summary>
    public static GatewayRefusal Address(SystemSpec spec, UpstreamAddressRefusedException refused) =>
        new(502, "upstream_address_refused", $"'{spec.Name}' cannot call its model: {refused.Message}. Nothing was sent. Tell the owner {spec.Owner} to fix upstream.baseUrl.");

    /// <summary>The custom patterns ran out of the request's time: the rest of the text is unchecked, so nothing goes out.</summary>
    public static GatewayRefusal BoundaryBudget(SystemSpec spec, string detector) =>
        new(422, "boundary_budget_exceeded",
            $"the data boundary of '{spec.Name}' could not finish checking this request: its custom patterns (detector '{detector}') used up the time one request may take. Nothing was sent to the model. Send less text at once; if ordinary requests are refused, the owner {spec.Owner} should simplify the pattern.");

    /// <summary>Text from an upstream with the key that was sent to it blanked out: some providers quote it back in errors.</summary>
    public static string WithoutKey(string text, string? key) =>
        string.IsNullOrEmpty(key) ? text : text.Replace(key, "[upstream key]", StringComparison.Ordinal);
}
