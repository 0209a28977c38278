namespace Pilotage.Cli.Serve;

/// <summary>
/// How long an idle thread-pool worker spins (yielding its core) before it sleeps, set for the process before the pool
/// starts its first worker (it reads the variable once). A gateway holding thousands of streamed answers open gets a few
/// bytes for one of them every fraction of a millisecond: each wakes a worker, which then spun for work that rarely came.
/// Profiled at 2,000 open answers on two cores, the spinning was 29 % of the process's CPU (perf: the pool's semaphore in
/// <c>sched_yield</c>), taken from the clients and the model on the same cores. 0 makes an idle worker sleep at once; its
/// price is a wake-up (a futex) for the next work item instead of a core kept busy (docs/scaling.md, "CPU").
/// An operator's own value wins.
/// </summary>
internal static class ThreadPoolSpinDefault
{
    public const string Variable = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";

    public const int SpinLimit = 0;

    /// <summary>Sets <see cref="Variable"/> to <see cref="SpinLimit"/> unless the environment already sets it.</summary>
    public static void Apply(Func<string, string?> read, Action<string, string> write)
    {
        if (read(Variable) is null) write(Variable, SpinLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
