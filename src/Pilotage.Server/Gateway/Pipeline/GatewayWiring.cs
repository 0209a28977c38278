using Pilotage.Server.Gateway.Protocols;
using Pilotage.Server.Gateway.Protocols.Responses;
using Pilotage.Server.Gateway.Protocols.Anthropic;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>The gateway's stages, one singleton each: they keep no state between requests.</summary>
internal static class GatewayWiring
{
    public static void AddGatewayPipeline(this IServiceCollection services)
    {
        services.AddSingleton<RequestIntake>();
        services.AddSingleton<Admission>();
        services.AddSingleton<DataBoundaryStage>();
        services.AddSingleton<UpstreamForwarder>();
        services.AddSingleton<UpstreamProtocols>();
        services.AddSingleton<AnswerReader>();
        services.AddSingleton<InteractionRecorder>();
        services.AddSingleton<RefusalWriter>();
        services.AddSingleton<HeldAnswers>();
        services.AddSingleton<AnswerDelivery>();
        services.AddSingleton<StreamRelay>();
        services.AddSingleton<GatewayPipeline>();
        services.AddSingleton<ModelsEndpoint>();
        services.AddSingleton<StoredResponses>();
        services.AddSingleton<ResponsesProtocol>();
        services.AddSingleton<AnthropicProtocol>();
    }
}
