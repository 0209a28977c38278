namespace Pilotage.Cli.Serve;

/// <summary>
/// How many arrays of a size the shared array pool keeps per core, set for the process before anything rents from the
/// pool (it reads the variable once). Every upstream call over HTTP/2 rents a 32 KB buffer for its request headers, and a
/// streamed answer a 16 KB buffer for each chunk that arrives; with thousands of answers open, the runtime's default (32
/// of a size per core) turned most of them into garbage. The price is what the pool keeps after a peak: 1,024 arrays of
/// each size used, per core (48 MB a core for those two sizes; 100 MB measured on two cores after 10,000 calls at once).
/// 256 kept the allocations of 1,024 at 2,000 open answers but doubled them at 10,000, and the memory after the burst
/// was no lower: what the pool drops stays on the heap as garbage until a full collection (docs/scaling.md, "Memory").
/// An operator's own value wins.
/// </summary>
internal static class ArrayPoolDefault
{
    public const string Variable = "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION";

    public const int ArraysPerCore = 1024;

    /// <summary>Sets <see cref="Variable"/> to <see cref="ArraysPerCore"/> unless the environment already sets it.</summary>
    public static void Apply(Func<string, string?> read, Action<string, string> write)
    {
        if (read(Variable) is null) write(Variable, ArraysPerCore.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
