using System.Diagnostics;
using Pilotage.Core.Evidence;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Gateway;

/// <summary>
/// One activity per gateway request, named and tagged by the OpenTelemetry GenAI semantic conventions
/// (<c>chat {system}</c>, <c>gen_ai.*</c>) plus Pilotage's own (<c>pilotage.*</c>). Tags are metadata
/// only: never a prompt, an answer, a key or a refusal message (which may quote a person's reason).
/// With no listener attached <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns
/// null and every method here returns at once.
/// </summary>
internal static class GatewayTracing
{
    public const string OperationName = "gen_ai.operation.name";
    public const string RequestModel = "gen_ai.request.model";
    public const string ResponseModel = "gen_ai.response.model";
    public const string InputTokens = "gen_ai.usage.input_tokens";
    public const string OutputTokens = "gen_ai.usage.output_tokens";
    public const string Mode = "pilotage.mode";
    public const string Outcome = "pilotage.outcome";
    public const string RefusalCode = "pilotage.refusal.code";
    public const string InteractionId = "pilotage.interaction.id";
    public const string ErrorType = "error.type";

    /// <summary>Starts the request's activity; the system is not known yet, so the name gets it in <see cref="Finish"/>.</summary>
    public static Activity? Start(Arrival arrival)
    {
        var operation = Operation(arrival.Endpoint);
        // Client: the gateway calls a model on the caller's behalf (GenAI conventions); the
        // ASP.NET Core server span, when instrumented, is its parent.
        var activity = GatewayMetrics.Activities.StartActivity(operation, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(OperationName, operation);
            activity.SetTag(InteractionId, arrival.Id);
        }
        return activity;
    }

    /// <summary>
    /// Tags the current gateway activity with what the evidence record says happened. Called where the
    /// record is appended, so every outcome (served, held, shadowed, refused, failed) is seen exactly as stored.
    /// </summary>
    /// <param name="system">The system as served (an evaluation run's candidate, say): names the upstream model.</param>
    public static void Record(InteractionRow record, GatewaySystem? system)
    {
        if (Current() is not { } activity) return;
        activity.SetTag(Outcome, record.Outcome);
        activity.SetTag(Mode, record.Mode);
        var operation = Operation(record.Endpoint);
        activity.DisplayName = $"{operation} {record.System}";
        activity.SetTag(RequestModel, record.System);
        if (record.UpstreamStatus is not null)
        {
            if (system is not null) activity.SetTag(ResponseModel, system.State.Spec.Upstream.Model);
            activity.SetTag(InputTokens, record.TokensIn);
            if (record.Endpoint == InteractionEndpointNames.Chat) activity.SetTag(OutputTokens, record.TokensOut);
        }
        if (record.RefusalCode is { } code) activity.SetTag(RefusalCode, code);
        if (record.Outcome == InteractionOutcomes.Failed) MarkFailed(activity, record.RefusalCode ?? "client_disconnected");
    }

    /// <summary>A refusal counted before any evidence record exists (authentication): tags it all the same.</summary>
    public static void Refused(string code)
    {
        if (Current() is not { } activity) return;
        activity.SetTag(Outcome, InteractionOutcomes.Refused);
        activity.SetTag(RefusalCode, code);
    }

    /// <summary>The answer was withheld for a reason that has no evidence record of its own (the store failed).</summary>
    public static void Failed(string code)
    {
        if (Current() is not { } activity) return;
        activity.SetTag(Outcome, InteractionOutcomes.Failed);
        activity.SetTag(RefusalCode, code);
        MarkFailed(activity, code);
    }

    /// <summary>The gateway activity of this request, if one is being recorded; never another source's.</summary>
    private static Activity? Current() =>
        Activity.Current is { IsAllDataRequested: true } activity && ReferenceEquals(activity.Source, GatewayMetrics.Activities) ? activity : null;

    private static void MarkFailed(Activity activity, string errorType)
    {
        activity.SetTag(ErrorType, errorType);
        activity.SetStatus(ActivityStatusCode.Error, errorType);
    }

    /// <summary>Completes the activity: what the record did not tag (a request turned away before it had one) comes from the response status.</summary>
    public static void Finish(Activity? activity, HttpContext http)
    {
        if (activity is not { IsAllDataRequested: true }) return;
        if (activity.GetTagItem(Mode) is null) activity.SetTag(Mode, "none");
        if (activity.GetTagItem(Outcome) is null)
        {
            // Turned away before an evidence record exists: bad key, malformed body, unknown system.
            var status = http.Response.StatusCode;
            activity.SetTag(Outcome, status >= 500 ? InteractionOutcomes.Failed : "rejected");
            if (status >= 500) MarkFailed(activity, status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>An exception escaped the pipeline: marks the activity, never handles the exception.</summary>
    public static bool Threw(Activity? activity, Exception exception)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Outcome, InteractionOutcomes.Failed);
            MarkFailed(activity, exception.GetType().FullName ?? exception.GetType().Name);
        }
        return false;
    }

    private static string Operation(string endpoint) => endpoint == "chat" ? "chat" : "embeddings";
}
