namespace Pilotage.Server.Hosting;

/// <summary>
/// The use-case layer: one <c>*Commands</c> / <c>*Queries</c> class per feature, which the API's endpoints,
/// the dashboard's pages and (through the API) the CLI all call. Endpoints and pages only bind, call and render.
/// </summary>
internal static class UseCaseWiring
{
    public static IServiceCollection AddPilotageUseCases(this IServiceCollection services)
    {
        services.AddSingleton<Reports.ReportHtml>();
        services.AddSingleton<Reports.ReportQueries>();
        return services;
    }
}
