using Pilotage.Server.Storage;

namespace Pilotage.Server.Audit;

/// <summary>Registers the verifiable audit log: its key, the checkpointer, and the start-up catch-up of the tree.</summary>
public static class AuditLogWiring
{
    public static void AddAuditLog(IServiceCollection services, AuditLogOptions? options)
    {
        var audit = options ?? new AuditLogOptions();
        services.AddSingleton(audit);
        services.AddSingleton(sp =>
        {
            var (keyPath, witnessPath) = audit.ResolvePaths(sp.GetRequiredService<StoreLocation>());
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Pilotage.Audit");
            return new AuditLogKey(AuditKeyFile.LoadOrCreate(keyPath, logger), keyPath, witnessPath);
        });
        services.AddHttpClient(AuditCheckpointer.WitnessClient, c => c.Timeout = TimeSpan.FromSeconds(30));
        services.AddSingleton<AuditCheckpointer>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditCheckpointer>());
        services.AddSingleton<AuditCheckpointSignal>();
        services.AddSingleton<Storage.ICommitObserver>(sp => sp.GetRequiredService<AuditCheckpointSignal>());
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(AuditJsonContext.Default));
    }

    /// <summary>Before serving: loads (or creates) the key, so a bad key file stops the start, and gives leaves to entries that have none.</summary>
    public static async Task StartAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        services.GetRequiredService<AuditLogKey>();
        var added = await AuditTree.CatchUpAsync(services.GetRequiredService<ControlPlane>(), services.GetRequiredService<ILoggerFactory>().CreateLogger("Pilotage.Audit"), cancellationToken);
        if (added > 0) services.GetRequiredService<ILoggerFactory>().CreateLogger("Pilotage.Audit").LogWarning("Added {Count} existing audit entries to the audit Merkle tree", added);
    }
}
