using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Core.DataBoundary;

namespace Pilotage.Bench.Boundary;

/// <summary>
/// The whole of the boundary's work on one chat request to the gateway bench's boundary system, both ways the gateway can
/// do it, timed in alternating batches in this one process: through the tree (build it from the parsed body, scrub it,
/// configure it, serialise it) and from the parsed elements (scan them, write the configured body with the redacted values).
/// The parse itself is left out: the gateway parses every body, with or without a boundary. The configuration is the bench
/// system's (model, system prompt, temperature), written here as the gateway's SystemConfiguration.ApplyChat and
/// ConfiguredChatBody write it (Server internals the bench does not see); the two bodies are checked equal first.
/// </summary>
internal static class WholeBoundary
{
    private const string Model = "bench-model";
    private const string Prompt = "You draft polite replies to support tickets.";
    private const double Temperature = 0.2;

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
        tree["model"] = Model;
        if (tree["messages"] is JsonArray messages)
        {
            messages.Insert(0, new JsonObject { ["role"] = "system", ["content"] = Prompt });
        }
        tree["temperature"] = Temperature;
        return ScrubbedBody.ToUtf8Bytes(tree);
    }

    /// <summary>The elements' way: the scan, then the body written with the configuration and the redacted values.</summary>
    private static byte[] Elements(JsonElement element, DataBoundaryPolicy policy)
    {
        if (RequestScrubber.Scrub(element, policy, null, out var redacted) is null)
        {
            throw new InvalidOperationException("the bench's conversation has no property name with a hit");
        }
        return Write(element, redacted);
    }

    /// <summary>The configured body written from the elements with <paramref name="redacted"/> in place, as the gateway's ConfiguredChatBody.</summary>
    private static byte[] Write(JsonElement element, RedactedElements redacted)
    {
        // A pooled buffer, as the gateway's (PooledBytes): only the body sent is an array of its own.
        using var buffer = new PooledWriter(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element).Length + Prompt.Length + 256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            var temperature = false;
            json.WriteStartObject();
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals("model"u8))
                {
                    RedactedElements.WriteName(json, property);
                    json.WriteStringValue(Model);
                }
                else if (property.NameEquals("messages"u8))
                {
                    RedactedElements.WriteName(json, property);
                    json.WriteStartArray();
                    json.WriteStartObject();
                    json.WriteString("role"u8, "system"u8);
                    json.WriteString("content"u8, Prompt);
                    json.WriteEndObject();
                    redacted.WriteItems(property.Value, json);
                    json.WriteEndArray();
                }
                else if (property.NameEquals("temperature"u8))
                {
                    RedactedElements.WriteName(json, property);
                    json.WriteNumberValue(Temperature);
                    temperature = true;
                }
                else
                {
                    redacted.WriteTo(property, json);
                }
            }
            if (!temperature) json.WriteNumber("temperature"u8, Temperature);
            json.WriteEndObject();
        }
        return buffer.Written.ToArray();
    }

    /// <summary>The gateway's PooledBytes (a Server internal): written into a pooled array, grown by doubling.</summary>
    private sealed class PooledWriter(int capacity) : System.Buffers.IBufferWriter<byte>, IDisposable
    {
        private byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(capacity);
        private int written;

        public ReadOnlySpan<byte> Written => buffer.AsSpan(0, written);

        public void Advance(int count) => written += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Reserve(sizeHint);
            return buffer.AsMemory(written);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Reserve(sizeHint);
            return buffer.AsSpan(written);
        }

        private void Reserve(int sizeHint)
        {
            if (buffer.Length - written >= Math.Max(sizeHint, 1)) return;
            var grown = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(buffer.Length * 2, written + sizeHint));
            buffer.AsSpan(0, written).CopyTo(grown);
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            buffer = grown;
        }

        public void Dispose() => System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
    }
}
