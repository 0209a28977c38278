using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using Pilotage.Server.Evidence;
using Pilotage.Server.Telemetry;

namespace Pilotage.Bench.Gateway;

/// <summary>
/// Runs one pass (direct, YARP, Pilotage durable, Pilotage async) with the load generator as a child
/// process, samples this process's memory while it runs, and renders the results.
/// </summary>
internal static class Orchestrator
{
    private const string Direct = "direct";
    private const string Yarp = "yarp";
    private const string Durable = "pilotage-durable";
    private const string Async = "pilotage-async";
    private const string YarpResponses = "yarp-responses";
    private const string PilotageResponses = "pilotage-responses";
    private const string Boundary = "pilotage-boundary";

    /// <param name="yarpChild">YARP's own process, told the phases and asked for its request times at the end; null when YARP shares the upstream's.</param>
    public static async Task<string> RunPassAsync(string label, BenchOptions options, string upstreamUrl, string yarpUrl, Process? yarpChild, PilotageUnderTest pilotage)
    {
        LoadTarget[] targets =
        [
            new(Direct, upstreamUrl + "/", "", "bench-model"),
            new(Yarp, yarpUrl + "/", "", "bench-model"),
            new(Durable, pilotage.Url + "/", pilotage.Key, PilotageUnderTest.Durable),
            new(Async, pilotage.Url + "/", pilotage.Key, PilotageUnderTest.Async),
            new(Boundary, pilotage.Url + "/", pilotage.Key, PilotageUnderTest.Boundary),
            .. options.Responses
                ? new LoadTarget[]
                {
                    new(YarpResponses, yarpUrl + "/", "", "bench-model", LoadTarget.ResponsesPath),
                    new(PilotageResponses, pilotage.Url + "/", pilotage.Key, PilotageUnderTest.Responses, LoadTarget.ResponsesPath),
                }
                : [],
        ];
        // --only keeps the baselines: direct for the added latency, YARP for the throughput ratio.
        targets = [.. targets.Where(t => options.Only.Count == 0 || t.Name is Direct or Yarp || options.Only.Contains(t.Name))];
        Console.WriteLine($"== {label}: Pilotage on {pilotage.Store} at {pilotage.Url}");
        Console.WriteLine($"   sending the {BenchPrompt.Describe(options.Prompt)}");
        foreach (var target in targets) await SmokeAsync(target);
        if (targets.Any(t => t.Name == Boundary)) await SmokeBlockedAsync(targets.Single(t => t.Name == Boundary));

        var results = new List<(string Kind, int Round, string Target, PhaseResult Result)>();
        var samples = new List<MemorySample>();
        var phase = "setup";
        var writerAtStart = pilotage.Writer.Stats;
        var batches = new Dictionary<string, (long Records, long Batches)>();
        var phaseStats = pilotage.Writer.Stats;

        using var timings = new PhaseRecorder();
        using var gcEvents = new GcEventRecorder();
        GC.Collect();
        var baseline = MemorySample.Take("baseline", pilotage);
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
            while (await timer.WaitForNextTickAsync(sampling.Token).ConfigureAwait(false))
            {
                var sample = MemorySample.Take(Volatile.Read(ref phase), pilotage);
                lock (samples) samples.Add(sample);
            }
        });

        using var child = StartChild(options.ChildArguments(targets));
        while (await child.StandardOutput.ReadLineAsync() is { } line)
        {
            var parts = line.Split(' ');
            switch (parts[0])
            {
                case "PHASE":
                    var now = pilotage.Writer.Stats;
                    Accumulate(batches, Volatile.Read(ref phase), now, phaseStats);
                    phaseStats = now;
                    Volatile.Write(ref phase, $"{parts[1]} {parts[3]}");
                    timings.Phase = $"{parts[1]} {parts[2]} {parts[3]}";
                    if (yarpChild is not null)
                    {
                        await yarpChild.StandardInput.WriteLineAsync($"PHASE {parts[1]} {parts[2]} {parts[3]}");
                        await yarpChild.StandardInput.FlushAsync();
                    }
                    gcEvents.Phase = $"{parts[1]} {parts[3]}";
                    break;
                case "READY":
                    await DrainAsync(pilotage);
                    phaseStats = pilotage.Writer.Stats;
                    gcEvents.Measuring = true;
                    await child.StandardInput.WriteLineAsync("GO");
                    await child.StandardInput.FlushAsync();
                    break;
                case "RESULT":
                    gcEvents.Measuring = false;
                    results.Add((parts[1], int.Parse(parts[2], CultureInfo.InvariantCulture), parts[3], new PhaseResult(
                        int.Parse(parts[4], CultureInfo.InvariantCulture), int.Parse(parts[5], CultureInfo.InvariantCulture),
                        D(parts[6]), D(parts[7]), D(parts[8]), D(parts[9]), D(parts[10]))));
                    break;
                default:
                    Console.WriteLine("load: " + line);
                    break;
            }
        }
        await child.WaitForExitAsync();
        await sampling.CancelAsync();
        try
        {
            await sampler;
        }
        catch (OperationCanceledException)
        {
            // the sampler stops by cancellation
        }
        if (child.ExitCode != 0) throw new InvalidOperationException($"the load generator failed with exit code {child.ExitCode}");
        if (yarpChild is not null)
        {
            await yarpChild.StandardInput.WriteLineAsync("PHASE setup");
            await yarpChild.StandardInput.WriteLineAsync("REPORT");
            await yarpChild.StandardInput.FlushAsync();
            while (await yarpChild.StandardOutput.ReadLineAsync() is { } line && line != "END")
            {
                if (line.StartsWith("TIMES ", StringComparison.Ordinal)) timings.Import(line);
            }
        }
        var writerAtEnd = pilotage.Writer.Stats;
        return Render(label, options, pilotage, targets.Select(t => t.Name).ToList(), results, samples, baseline, batches, writerAtStart, writerAtEnd, timings, gcEvents.Collections);
    }

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    private static void Accumulate(Dictionary<string, (long Records, long Batches)> into, string phase, EvidenceWriterStats now, EvidenceWriterStats before)
    {
        into.TryGetValue(phase, out var sum);
        into[phase] = (sum.Records + now.RecordsWritten - before.RecordsWritten, sum.Batches + now.Batches - before.Batches);
    }

    /// <summary>
    /// Waits until the evidence queue is empty (async records of the last phase written), has the store write out
    /// what is still bound for the disk, then pauses briefly: each phase starts with nothing left over.
    /// </summary>
    internal static async Task DrainAsync(PilotageUnderTest pilotage)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (pilotage.Writer.Stats.Queued > 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        await pilotage.FlushStoreAsync();
        await Task.Delay(500);
    }

    private static async Task SmokeAsync(LoadTarget target)
    {
        using var client = new HttpClient { BaseAddress = new Uri(target.Url) };
        if (target.Bearer.Length > 0) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", target.Bearer);
        using var content = new StringContent(target.Body("hello"), Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(target.Path, content);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode || !text.Contains("\"usage\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{target.Name}: {(int)response.StatusCode} {text}");
        }
        var mode = response.Headers.TryGetValues("x-pilotage-mode", out var m) ? string.Join(",", m) : "-";
        Console.WriteLine($"  smoke {target.Name}: {(int)response.StatusCode}, x-pilotage-mode {mode}");
    }

    /// <summary>The boundary target really scans: a card number is refused before it reaches the upstream.</summary>
    private static async Task SmokeBlockedAsync(LoadTarget target)
    {
        using var client = new HttpClient { BaseAddress = new Uri(target.Url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", target.Bearer);
        using var content = new StringContent($$"""{"model":"{{target.Model}}","messages":[{"role":"user","content":"my card is 4111 1111 1111 1111"}]}""", Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("v1/chat/completions", content);
        if ((int)response.StatusCode != 422) throw new InvalidOperationException($"{target.Name}: a card number was not refused ({(int)response.StatusCode})");
        Console.WriteLine($"  smoke {target.Name}: a card number is refused (422)");
    }

    internal static Process StartChild(IEnumerable<string> arguments)
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var info = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        // Run as `dotnet Pilotage.Bench.Gateway.dll`: the child needs the dll too.
        if (Path.GetFileNameWithoutExtension(path).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            info.ArgumentList.Add(Assembly.GetExecutingAssembly().Location);
        }
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return Process.Start(info) ?? throw new InvalidOperationException("could not start a child process of the benchmark");
    }

    private static string Render(
        string label, BenchOptions o, PilotageUnderTest pilotage, List<string> names,
        List<(string Kind, int Round, string Target, PhaseResult Result)> results,
        List<MemorySample> samples, MemorySample baseline, Dictionary<string, (long Records, long Batches)> batches,
        EvidenceWriterStats start, EvidenceWriterStats end, PhaseRecorder timings, IReadOnlyList<BlockingFullCollection> fullCollections)
    {
        var s = new StringBuilder();
        void Line(FormattableString text) => s.AppendLine(FormattableString.Invariant(text));
        PhaseResult R(string kind, int round, string target) => results.Single(r => r.Kind == kind && r.Round == round && r.Target == target).Result;
        var rounds = Enumerable.Range(0, o.Rounds).ToList();

        Line($"## {label}: Pilotage on {pilotage.Store}");
        Line($"{Environment.ProcessorCount} cores; Pilotage alone in this process; {(o.YarpInOwnProcess ? "upstream and YARP each in a child process of its own" : "upstream and YARP in one child process")}, the load generator in another; medians of {o.Rounds} rounds, target order rotated each round.");
        Line($"");
        Line($"Fixed rate {o.Rate} req/s for {o.Seconds} s (open loop; latency from send to last byte, client side):");
        Line($"");
        Line($"| target | p50 ms | p90 ms | p99 ms | max ms | added p50 ms | added p99 ms | errors |");
        Line($"|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var name in names)
        {
            var p50 = Median(rounds.Select(r => R("rate", r, name).P50));
            var p90 = Median(rounds.Select(r => R("rate", r, name).P90));
            var p99 = Median(rounds.Select(r => R("rate", r, name).P99));
            var max = Median(rounds.Select(r => R("rate", r, name).Max));
            var add50 = Median(rounds.Select(r => R("rate", r, name).P50 - R("rate", r, Direct).P50));
            var add99 = Median(rounds.Select(r => R("rate", r, name).P99 - R("rate", r, Direct).P99));
            var errors = rounds.Sum(r => R("rate", r, name).Errors);
            Line($"| {name} | {p50:0.000} | {p90:0.000} | {p99:0.000} | {max:0.00} | {(name == Direct ? "–" : add50.ToString("+0.000;-0.000", CultureInfo.InvariantCulture))} | {(name == Direct ? "–" : add99.ToString("+0.000;-0.000", CultureInfo.InvariantCulture))} | {errors} |");
        }
        Line($"");
        Line($"Per round, p99 ms: {string.Join("; ", names.Select(n => n + " " + string.Join("/", rounds.Select(r => R("rate", r, n).P99.ToString("0.00", CultureInfo.InvariantCulture)))))}");
        Line($"");
        // Where a proxied request's time goes at the fixed rate: the client's view, the server's own (Kestrel, from the
        // request's headers to its response written), and the part of that spent calling the upstream. Client p99 well
        // above server p99 is time outside the handler (sockets, waiting for one of the shared cores), not the proxy's work.
        Line($"Inside the proxies at {o.Rate} req/s (medians of the rounds; server = `http.server.request.duration`, upstream call = the proxy's `http.client.request.duration`; YARP's from its own process, with --yarp-process own):");
        Line($"");
        Line($"| target | client p50 / p99 ms | server p50 / p99 ms | upstream call p50 / p99 ms | client − server p99 ms | server − upstream p50 ms | requests timed |");
        Line($"|---|---:|---:|---:|---:|---:|---:|");
        foreach (var name in names.Where(n => n.StartsWith("pilotage", StringComparison.Ordinal) || (n == Yarp && timings.Server($"rate 0 {Yarp}").Length > 0)))
        {
            var server = rounds.Select(r => timings.Server($"rate {r} {name}")).ToList();
            var upstream = rounds.Select(r => timings.Upstream($"rate {r} {name}")).ToList();
            double M(IEnumerable<double[]> series, double p) => Median(series.Select(t => PhaseResult.Percentile(t, p)));
            var client99 = Median(rounds.Select(r => R("rate", r, name).P99));
            Line($"| {name} | {Median(rounds.Select(r => R("rate", r, name).P50)):0.000} / {client99:0.000} | {M(server, 0.50):0.000} / {M(server, 0.99):0.000} | {M(upstream, 0.50):0.000} / {M(upstream, 0.99):0.000} | {Median(rounds.Select(r => R("rate", r, name).P99 - PhaseResult.Percentile(server[r], 0.99))):+0.000;-0.000} | {Median(rounds.Select(r => PhaseResult.Percentile(server[r], 0.50) - PhaseResult.Percentile(upstream[r], 0.50))):+0.000;-0.000} | {server.Sum(t => t.Length):N0} |");
        }
        Line($"");
        Line($"Maximum throughput, closed loop, {o.Concurrency} workers for {o.Seconds} s:");
        Line($"");
        Line($"| target | req/s (median) | per round | vs YARP of the same API (median of per-round ratios) | p50 ms | p99 ms | errors |");
        Line($"|---|---:|---|---:|---:|---:|---:|");
        foreach (var name in names)
        {
            double Rps(int r) => R("tput", r, name).Count / R("tput", r, name).Seconds;
            // Each API against YARP carrying the same API: the Responses targets against YARP's Responses calls.
            var reference = name.EndsWith("-responses", StringComparison.Ordinal) ? YarpResponses : Yarp;
            var ratio = Median(rounds.Select(r => Rps(r) / (R("tput", r, reference).Count / R("tput", r, reference).Seconds)));
            Line($"| {name} | {Median(rounds.Select(Rps)):0} | {string.Join(" / ", rounds.Select(r => Rps(r).ToString("0", CultureInfo.InvariantCulture)))} | {ratio:0.00} | {Median(rounds.Select(r => R("tput", r, name).P50)):0.00} | {Median(rounds.Select(r => R("tput", r, name).P99)):0.00} | {rounds.Sum(r => R("tput", r, name).Errors)} |");
        }
        if (names.Contains(Async) && names.Contains(Boundary))
        {
            // The boundary's price in the terms of the target: points of the throughput ratio to the bare proxy.
            double Ratio(int r, string name) => R("tput", r, name).Count / R("tput", r, name).Seconds / (R("tput", r, Yarp).Count / R("tput", r, Yarp).Seconds);
            var points = rounds.Select(r => (Ratio(r, Async) - Ratio(r, Boundary)) * 100).ToList();
            Line($"");
            Line($"Data boundary: {Median(points):0.0} points of the ratio to YARP (median of per-round {Async} − {Boundary}; per round {string.Join(" / ", points.Select(p => p.ToString("0.0", CultureInfo.InvariantCulture)))}).");
        }
        Line($"");
        Line($"Pilotage process memory (sampled every 250 ms; the process holds Pilotage and the benchmark harness only; workstation GC like `pilotage serve`):");
        Line($"");
        Line($"| phase | working set MB median / max | GC heap MB median / max | evidence queue max |");
        Line($"|---|---:|---:|---:|");
        Line($"| idle after setup (after a full GC) | {baseline.WorkingSetMb:0} | {baseline.HeapMb:0} | {baseline.Queued} |");
        foreach (var kind in new[] { "rate", "tput" })
        {
            foreach (var name in names)
            {
                var mine = samples.Where(m => m.Phase == $"{kind} {name}").ToList();
                if (mine.Count == 0) continue;
                Line($"| {(kind == "rate" ? "fixed rate" : "throughput")} {name} | {Median(mine.Select(m => m.WorkingSetMb)):0} / {mine.Max(m => m.WorkingSetMb):0} | {Median(mine.Select(m => m.HeapMb)):0} / {mine.Max(m => m.HeapMb):0} | {mine.Max(m => m.Queued)} |");
            }
        }
        Line($"| whole pass | – / {samples.Max(m => m.WorkingSetMb):0} | – / {samples.Max(m => m.HeapMb):0} | {samples.Max(m => m.Queued)} |");
        Line($"");
        // A tail at a fixed rate that the bare proxy does not have is either work, a collection, or a request waiting
        // for a pool thread: these say which of the last two it could be (sampled, so a phase's first and last
        // quarter second may fall to its neighbours).
        Line($"Runtime during the fixed-rate phases, all rounds (GC latency mode {System.Runtime.GCSettings.LatencyMode}; collections and their pause; the longest pause is of the collections the 250 ms samples saw last):");
        Line($"");
        Line($"| phase | gen0 / gen1 / gen2 collections | GC pause ms, total | longest pause seen ms | pool threads min / max | queued pool work max |");
        Line($"|---|---:|---:|---:|---:|---:|");
        foreach (var name in names)
        {
            var mine = samples.Where(m => m.Phase == $"rate {name}").ToList();
            if (mine.Count == 0) continue;
            // Samples of one phase kind come from every round: count only the steps between consecutive samples of it.
            int gen0 = 0, gen1 = 0, gen2 = 0;
            var pause = 0.0;
            var longest = 0.0;
            var longestKind = "";
            for (var i = 1; i < samples.Count; i++)
            {
                if (samples[i].Phase != $"rate {name}" || samples[i - 1].Phase != samples[i].Phase) continue;
                gen0 += samples[i].Gen0 - samples[i - 1].Gen0;
                gen1 += samples[i].Gen1 - samples[i - 1].Gen1;
                gen2 += samples[i].Gen2 - samples[i - 1].Gen2;
                pause += samples[i].GcPauseMs - samples[i - 1].GcPauseMs;
                if (samples[i].LastGcIndex != samples[i - 1].LastGcIndex && samples[i].LastGcPauseMs > longest)
                {
                    longest = samples[i].LastGcPauseMs;
                    longestKind = " (" + samples[i].LastGcKind + ")";
                }
            }
            Line($"| {name} | {gen0} / {gen1} / {gen2} | {pause:0.0} | {longest:0.00}{longestKind} | {mine.Min(m => m.PoolThreads)} / {mine.Max(m => m.PoolThreads)} | {mine.Max(m => m.PoolPending)} |");
        }
        Line($"");
        Line($"Blocking gen2 collections in the whole pass (the runtime's GC events): {fullCollections.Count}, of which {fullCollections.Count(c => c.DuringRequests)} while requests were timed.");
        foreach (var c in fullCollections) Line($"- {c.Phase}{(c.DuringRequests ? ", during requests" : ", between phases")}: {c.Milliseconds:0.0} ms, {c.Reason}");
        Line($"");
        Line($"Evidence writer (group commit) per phase kind:");
        foreach (var kind in new[] { "rate", "tput" })
        {
            foreach (var name in names.Where(n => n.StartsWith("pilotage", StringComparison.Ordinal)))
            {
                if (!batches.TryGetValue($"{kind} {name}", out var b) || b.Batches == 0) continue;
                Line($"- {(kind == "rate" ? "fixed rate" : "throughput")} {name}: {b.Records:N0} records in {b.Batches:N0} commits, mean {(double)b.Records / b.Batches:0.0} records per commit");
            }
        }
        Line($"- whole pass: {end.RecordsWritten - start.RecordsWritten:N0} records written, {end.Failures - start.Failures} failed batches, {end.AsyncRecordsLost - start.AsyncRecordsLost} async records lost");
        Line($"");
        // What durable mode adds over async is the wait for a commit: compare it with the commits of the same phase.
        if (!names.Contains(Durable) || !names.Contains(Async)) return s.ToString();
        Line($"Durable premium at {o.Rate} req/s against the group-commit interval of the same phase (the writer's own durable commit times, `{EvidenceMetrics.CommitDuration}`):");
        Line($"");
        Line($"| round | durable p99 − async p99 ms | durable commit p50 ms | durable commit p99 ms | longest commit ms | commits | writer busy | within one interval | within two |");
        Line($"|---|---:|---:|---:|---:|---:|---:|---|---|");
        var premiums = new List<double>();
        var intervals = new List<double>();
        var busyShares = new List<double>();
        foreach (var r in rounds)
        {
            var times = timings.Durable($"rate {r} {Durable}");
            var premium = R("rate", r, Durable).P99 - R("rate", r, Async).P99;
            var interval = PhaseResult.Percentile(times, 0.99);
            // The share of the phase the single writer spent committing: a durable record that arrives then waits for
            // the rest of that commit before its own. Above 1 %, that wait is inside the p99.
            var busy = times.Sum() / (R("rate", r, Durable).Seconds * 1000.0);
            premiums.Add(premium);
            intervals.Add(interval);
            busyShares.Add(busy);
            Line($"| {r + 1} | {premium:+0.000;-0.000} | {PhaseResult.Percentile(times, 0.50):0.000} | {interval:0.000} | {(times.Length == 0 ? double.NaN : times[^1]):0.0} | {times.Length:N0} | {busy:0.0%} | {(premium <= interval ? "yes" : "no")} | {(premium <= 2 * interval ? "yes" : "no")} |");
        }
        Line($"| median | {Median(premiums):+0.000;-0.000} | | {Median(intervals):0.000} | | | {Median(busyShares):0.0%} | {(Median(premiums) <= Median(intervals) ? "yes" : "no")} | {(Median(premiums) <= 2 * Median(intervals) ? "yes" : "no")} |");
        Line($"");
        Line($"Writer busy: the share of the phase spent in durable commits. A durable record that arrives during a commit waits for the rest of it, then for its own; when more than 1 % of records arrive so, that wait is part of the p99, and one commit is not a bound a single writer can keep.");
        return s.ToString();
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}


/// <summary>
/// What the process looked like at one moment: memory, the evidence queue, and the runtime's state that can lengthen a
/// request's tail (the thread pool's threads and queued work, collections and their cumulative pause).
/// </summary>
internal sealed record MemorySample(
    string Phase, double WorkingSetMb, double HeapMb, int Queued,
    int PoolThreads, long PoolPending, int Gen0, int Gen1, int Gen2, double GcPauseMs, long LastGcIndex, double LastGcPauseMs, string LastGcKind)
{
    public static MemorySample Take(string phase, PilotageUnderTest pilotage)
    {
        var last = GC.GetGCMemoryInfo(GCKind.Any);
        var lastPause = 0.0;
        foreach (var pause in last.PauseDurations) lastPause += pause.TotalMilliseconds;
        return new(phase, Environment.WorkingSet / 1048576.0, GC.GetTotalMemory(false) / 1048576.0, pilotage.Writer.Stats.Queued,
            ThreadPool.ThreadCount, ThreadPool.PendingWorkItemCount, GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
            GC.GetTotalPauseDuration().TotalMilliseconds, last.Index, lastPause,
            $"gen{last.Generation}{(last.Concurrent ? " background" : "")}{(last.Compacted ? " compacting" : "")}, {last.PromotedBytes / 1048576.0:0.0} MB promoted");
    }
}
