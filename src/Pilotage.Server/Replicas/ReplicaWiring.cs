namespace Pilotage.Server.Replicas;

/// <summary>Registers what lets several <c>pilotage serve</c> processes share one PostgreSQL store.</summary>
public static class ReplicaWiring
{
    public static IServiceCollection AddPilotageReplicas(this IServiceCollection services)
    {
        services.AddSingleton<ReplicaSync>();
        services.AddHostedService(sp => sp.GetRequiredService<ReplicaSync>());
        services.AddHostedService<SqliteServeLock>();
        return services;
    }
}
