using System.Collections.Immutable;

namespace Pilotage.Cli.Serve;

/// <summary>
/// Runtime settings the executable gives itself before the runtime reads them (each is read once: the shared array
/// pool on its first rent, the thread pool when it starts its first worker), as environment variables, so that an
/// operator's own value wins. Why each value, with the figures behind it: docs/scaling.md ("Memory", "CPU").
/// </summary>
internal static class RuntimeDefaults
{
    /// <summary>
    /// How many arrays of a size the shared array pool keeps per core. Every upstream call over HTTP/2 rents a 32 KB
    /// buffer for its request headers, and a streamed answer a 16 KB buffer for each chunk that arrives; with thousands
    /// of answers open, the runtime's default (32 of a size per core) turned most of them into garbage. The price is what
    /// the pool keeps after a peak: 1,024 arrays of each size used, per core (48 MB a core for those two sizes; 100 MB
    /// measured on two cores after 10,000 calls at once). 256 kept the allocations of 1,024 at 2,000 open answers but
    /// doubled them at 10,000, and the memory after the burst was no lower.
    /// </summary>
    public static readonly RuntimeDefault ArraysPerCore = new("DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION", "1024");

    /// <summary>
    /// How long an idle thread-pool worker spins (yielding its core) before it sleeps. A gateway holding thousands of
    /// streamed answers open gets a few bytes for one of them every fraction of a millisecond: each wakes a worker, which
    /// then spun for work that rarely came. Profiled at 2,000 open answers on two cores, the spinning was 29 % of the
    /// process's CPU (the pool's semaphore in <c>sched_yield</c>), taken from the clients and the model on the same cores.
    /// 0 makes an idle worker sleep at once; its price is a wake-up (a futex) for the next work item.
    /// </summary>
    public static readonly RuntimeDefault ThreadPoolSpinLimit = new("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit", "0");

    public static ImmutableArray<RuntimeDefault> All { get; } = [ArraysPerCore, ThreadPoolSpinLimit];

    /// <summary>Sets each variable of <see cref="All"/> to its value unless the environment already sets it.</summary>
    public static void Apply(Func<string, string?> read, Action<string, string> write)
    {
        foreach (var setting in All)
        {
            if (read(setting.Variable) is null) write(setting.Variable, setting.Value);
        }
    }
}

/// <summary>One runtime setting, as the environment variable the runtime reads and the value Pilotage gives it.</summary>
internal sealed record RuntimeDefault(string Variable, string Value);
