using System.Collections;
using System.Runtime.InteropServices;
using Pilotage.Cli;

// First, before anything rents from the shared array pool, which reads this variable once: a streamed answer from an
// HTTP/2 upstream rents a 16 KB buffer for each chunk that arrives, and with thousands of answers open the pool's
// default (32 arrays of a size per core) turned most of them into garbage, the largest part of the gateway's
// allocations and of its heap's growth (docs/scaling.md, "Memory"). An operator's own value wins.
const string ArraysPerPartition = "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION";
if (Environment.GetEnvironmentVariable(ArraysPerPartition) is null) Environment.SetEnvironmentVariable(ArraysPerPartition, "1024");

// Ctrl-C and SIGTERM cancel the running verb, so 'serve' shuts down cleanly; a second Ctrl-C is not
// intercepted and ends the process at once, in case a shutdown hangs.
using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

var environment = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
    .ToDictionary(e => (string)e.Key, e => e.Value as string, StringComparer.Ordinal);
return await CliApp.RunAsync(args, Console.Out, Console.Error, environment, interactive: !Console.IsOutputRedirected, stop.Token);

void Stop(PosixSignalContext context)
{
    if (stop.IsCancellationRequested) return;
    context.Cancel = true;
    stop.Cancel();
}
