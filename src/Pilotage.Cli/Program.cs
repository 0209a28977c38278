using System.Collections;
using System.Runtime.InteropServices;
using Pilotage.Cli;
using Pilotage.Cli.Serve;

// First, before anything rents from the shared array pool or the thread pool starts a worker: each reads its
// setting once (Serve/RuntimeDefaults.cs).
RuntimeDefaults.Apply(Environment.GetEnvironmentVariable, Environment.SetEnvironmentVariable);

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
