using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Gateway;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Policy;

namespace Pilotage.Bench.Boundary;

/// <summary>
/// The whole of the boundary's work on one chat request to the gateway bench's boundary system, both ways the gateway can
/// do it, timed in alternating batches in this one process: through the tree (build it from the parsed body, scrub it,
/// configure it, serialise it) and from the parsed elements (scan them, write the configured body with the redacted values).
/// The parse itself is left out: the gateway parses every body, with or without a boundary. The configuration is the bench
/// system's (model, system prompt, temperature), applied by the gateway's own SystemConfiguration.ApplyChat and
/// ConfiguredChatBody; the two bodies are checked equal first.
/// </summary>
internal static class WholeBoundary
{
    /// <summary>The gateway bench's boundary system: its model, system prompt and temperature.</summary>
    private static readonly GatewaySystem BenchSystem = GatewaySystem.From(new SystemState(1, new SystemSpec
    {
        Name = "bench-boundary",
        Owner = "owner@example.org",
        Purpose = "bench",
        Upstream = new UpstreamSpec { BaseUrl = "http://upstream/v1", Model = "bench-model" },
        Config = new ConfigSpec { SystemPrompt = "You draft polite replies to support tickets.", Temperature = 0.2 },
    }, new LifecycleState(LifecyclePhase.Pilot), 1));

    public static void Run(DataBoundaryPolicy policy, int batches)
    {
        var body = Pilotage.Bench.Gateway.BenchPrompt.Body("realistic", "bench-boundary");
        var element = JsonElement.Parse(body, new JsonDocumentOptions { MaxDepth = 64, AllowDuplicateProperties = false });
        var tree = Tree(element, policy);
        var elements = Elements(element, policy);
        if (!tree.AsSpan().SequenceEqual(elements))
        {
            throw new InvalidOperationException("the two ways wrote different bodies");
        }
        Action[] ways = [() => Tree(element, policy), () => Elements(element, policy)];
        var perBatch = new int[2];
        for (var w = 0; w < 2; w++)
        {
            var warm = Stopwatch.StartNew();
            for (var i = 0; i < 2000 || warm.Elapsed < TimeSpan.FromMilliseconds(500); i++) ways[w]();
            var probe = Stopwatch.StartNew();
            while (probe.Elapsed < TimeSpan.FromMilliseconds(2))
            {
                ways[w]();
                perBatch[w]++;
            }
        }
        var samples = new[] { new double[batches], new double[batches] };
        for (var b = 0; b < batches; b++)
        {
            for (var w = 0; w < 2; w++)
            {
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < perBatch[w]; i++) ways[w]();
                samples[w][b] = clock.Elapsed.TotalMicroseconds / perBatch[w];
            }
        }
        string[] labels = ["realistic: tree (build, scrub, configure, serialise)", "realistic: elements (scan, write configured)"];
        var medians = new double[2];
        for (var w = 0; w < 2; w++)
        {
            Array.Sort(samples[w]);
            medians[w] = samples[w][batches / 2];
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 100; i++) ways[w]();
            var bytes = (GC.GetAllocatedBytesForCurrentThread() - before) / 100;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{labels[w],-62} median {medians[w],8:0.00} µs  (p10 {samples[w][batches / 10]:0.00}, p90 {samples[w][batches * 9 / 10]:0.00})  {bytes,7} B"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"realistic: elements / tree, side by side",-62} {medians[1] / medians[0],8:0.00}x  ({body.Length} B body, {tree.Length} B sent)"));
    }

    /// <summary>The tree's way, as the gateway took it for every request to a system with a boundary.</summary>
    private static byte[] Tree(JsonElement element, DataBoundaryPolicy policy)
    {
        var tree = JsonObject.Create(element)!;
        _ = RequestScrubber.Scrub(tree, policy, null, RedactedValues.Utf8);
        SystemConfiguration.ApplyChat(tree, BenchSystem, ServingMode.Full, clientWantsStream: false);
        return ScrubbedBody.ToUtf8Bytes(tree);
    }

    /// <summary>The elements' way: the scan, then the body written with the configuration and the redacted values.</summary>
    private static byte[] Elements(JsonElement element, DataBoundaryPolicy policy)
    {
        if (RequestScrubber.Scrub(element, policy, null, out var redacted) is null)
        {
            throw new InvalidOperationException("the bench's conversation has no property name with a hit");
        }
        return ConfiguredChatBody.Write(element, BenchSystem, ServingMode.Full, clientWantsStream: false, redacted).Sent;
    }
}
