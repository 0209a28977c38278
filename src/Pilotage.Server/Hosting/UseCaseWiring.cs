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
        services.AddSingleton<Systems.LifecycleCommands>();
        services.AddSingleton<Systems.SystemQueries>();
        services.AddSingleton<Incidents.IncidentCommands>();
        services.AddSingleton<Incidents.IncidentQueries>();
        services.AddSingleton<Changes.ChangeRequestCommands>();
        services.AddSingleton<Changes.ChangeRequestQueries>();
        services.AddSingleton<Changes.OwnershipCommands>();
        services.AddSingleton<Changes.LegalHoldCommands>();
        services.AddSingleton<Changes.RetentionCommands>();
        services.AddSingleton<Changes.LegalHoldQueries>();
        services.AddSingleton<People.PeopleCommands>();
        services.AddSingleton<People.PeopleQueries>();
        services.AddSingleton<Keys.KeyCommands>();
        services.AddSingleton<Keys.KeyQueries>();
        services.AddSingleton<Reviews.ApprovalQueries>();
        services.AddSingleton<Import.ImportCommands>();
        services.AddSingleton<Readiness.ReadinessCommands>();
        services.AddSingleton<Audit.AuditQueries>();
        services.AddSingleton<Pilots.EvalCommands>();
        services.AddSingleton<Pilots.EvalQueries>();
        services.AddSingleton<Systems.ConfigVersionCommands>();
        services.AddSingleton<Notifications.WebhookQueries>();
        services.AddSingleton<Attention.AttentionQueries>();
        return services;
    }
}
