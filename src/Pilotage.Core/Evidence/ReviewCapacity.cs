namespace Pilotage.Core.Evidence;

/// <summary>Whether reviewers keep up, and when the backlog will break the SLA if nothing changes.</summary>
/// <param name="Utilisation">Review minutes arriving per day over the capacity (1.0 = exactly full); null without a capacity.</param>
/// <param name="WaitHours">How long a new item waits before review at the current capacity.</param>
/// <param name="DaysUntilBreach">0 when the SLA is already broken; null when it is not expected to break.</param>
public sealed record ReviewForecast(double? Utilisation, double? WaitHours, double? DaysUntilBreach, string Summary);

public static class ReviewCapacity
{
    /// <param name="backlog">Items waiting for review now.</param>
    /// <param name="oldestHours">Age of the oldest waiting item.</param>
    /// <param name="minutesPerTask">Mean review minutes per item (review + rework).</param>
    /// <param name="inflowPerDay">Items entering the queue per day at the current rate.</param>
    /// <param name="capacityMinutesPerDay">Reviewer minutes per day from the spec.</param>
    /// <param name="slaHours">Target time to review.</param>
    public static ReviewForecast Forecast(long backlog, double oldestHours, double? minutesPerTask, double inflowPerDay, double? capacityMinutesPerDay, double? slaHours)
    {
        if (capacityMinutesPerDay is not { } capacity || capacity <= 0 || minutesPerTask is not { } perTask || perTask <= 0)
        {
            var unknown = capacityMinutesPerDay is null ? "no review capacity in the spec (review.minutesPerDay)" : "no reviews yet to measure minutes per task";
            return new ReviewForecast(null, null, slaHours is { } s && oldestHours > s ? 0 : null, $"capacity unknown: {unknown}; {backlog} waiting, oldest {oldestHours:0.#} h");
        }
        var capacityTasks = capacity / perTask;
        var utilisation = inflowPerDay * perTask / capacity;
        var waitHours = backlog / capacityTasks * 24;
        if (slaHours is not { } sla)
        {
            return new ReviewForecast(utilisation, waitHours, null, $"{utilisation:P0} of review capacity used; a new item waits about {waitHours:0.#} h (no SLA set)");
        }
        if (oldestHours > sla || waitHours > sla)
        {
            return new ReviewForecast(utilisation, waitHours, 0, $"the review SLA of {sla:0.#} h is already broken: {backlog} waiting, oldest {oldestHours:0.#} h");
        }
        var growthPerDay = inflowPerDay - capacityTasks;
        if (growthPerDay <= 0)
        {
            return new ReviewForecast(utilisation, waitHours, null, $"{utilisation:P0} of review capacity used; the backlog is not growing, the {sla:0.#} h SLA holds");
        }
        var days = (sla / 24 * capacityTasks - backlog) / growthPerDay;
        return new ReviewForecast(utilisation, waitHours, days, $"{utilisation:P0} of review capacity used; at this rate the backlog breaks the {sla:0.#} h SLA in {days:0.#} days");
    }
}
