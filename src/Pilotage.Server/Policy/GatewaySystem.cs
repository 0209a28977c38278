using Pilotage.Core.DataBoundary;
using Pilotage.Core.Gateway;
using Pilotage.Core.Specs;

namespace Pilotage.Server.Policy;

/// <summary>A system as the gateway serves it: its state plus what is derived once per snapshot.</summary>
/// <param name="ChatUrl">Where chat requests go: the upstream protocol's chat path after <c>baseUrl</c>.</param>
public sealed record GatewaySystem(SystemState State, DataBoundaryPolicy Boundary, IReadOnlySet<string> SideEffectingTools, Uri ChatUrl, Uri EmbeddingsUrl)
{
    /// <summary>Where a chat request goes, after <c>baseUrl</c>, for the protocol the upstream speaks.</summary>
    public static string ChatPath(UpstreamProtocol protocol) => protocol switch
    {
        UpstreamProtocol.OpenAiResponses => "responses",
        UpstreamProtocol.Anthropic => "messages",
        _ => "chat/completions",
    };

    public static GatewaySystem From(SystemState state)
    {
        var baseUrl = state.Spec.Upstream.BaseUrl.TrimEnd('/') + "/";
        return new GatewaySystem(
            state,
            DataBoundaryPolicy.From(state.Spec.DataBoundary),
            state.Spec.Tools.SideEffecting.ToHashSet(StringComparer.Ordinal),
            new Uri(new Uri(baseUrl), ChatPath(state.Spec.Upstream.Protocol)),
            new Uri(new Uri(baseUrl), "embeddings"));
    }
}
