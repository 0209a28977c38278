using Pilotage.Core.DataBoundary;
using Pilotage.Core.Gateway;

namespace Pilotage.Server.Policy;

/// <summary>A system as the gateway serves it: its state plus what is derived once per snapshot.</summary>
public sealed record GatewaySystem(SystemState State, DataBoundaryPolicy Boundary, IReadOnlySet<string> SideEffectingTools, Uri ChatUrl, Uri EmbeddingsUrl)
{
    public static GatewaySystem From(SystemState state)
    {
        var baseUrl = state.Spec.Upstream.BaseUrl.TrimEnd('/') + "/";
        return new GatewaySystem(
            state,
            DataBoundaryPolicy.From(state.Spec.DataBoundary),
            state.Spec.Tools.SideEffecting.ToHashSet(StringComparer.Ordinal),
            new Uri(new Uri(baseUrl), "chat/completions"),
            new Uri(new Uri(baseUrl), "embeddings"));
    }
}
