namespace Pilotage.Server.Identity;

/// <summary>The identity provider's services; without <see cref="OidcOptions"/> they are present but accept no token.</summary>
public static class IdentityWiring
{
    public static IServiceCollection AddIdentity(this IServiceCollection services, OidcOptions? options)
    {
        if (options is null)
        {
            services.AddSingleton(sp => new AccessTokens(null, null, null, sp.GetRequiredService<Policy.PolicyCache>(), sp.GetRequiredService<TimeProvider>()));
            return services;
        }
        options = options.Checked();
        services.AddSingleton(options);
        services.AddHttpClient(ProviderMetadata.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10));
        services.AddSingleton<ProviderMetadata>();
        services.AddSingleton<DirectoryPeople>();
        services.AddSingleton(sp => new AccessTokens(options, sp.GetRequiredService<ProviderMetadata>(), sp.GetRequiredService<DirectoryPeople>(),
            sp.GetRequiredService<Policy.PolicyCache>(), sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}
