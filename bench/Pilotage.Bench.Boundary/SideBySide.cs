using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json.Nodes;

namespace Pilotage.Bench.Boundary;

/// <summary>
/// <c>--side-by-side DIR_A DIR_B [rounds]</c>: the realistic request parsed and scrubbed as the gateway does (its boundary
/// system's policy) by two builds of Pilotage.Core in one process, each loaded from its output folder into a context of
/// its own, beside the parse alone, alternated round by round. On a busy machine, runs of the two binaries one after the
/// other differ by more than a change does; alternated rounds in one process see the same load.
/// </summary>
internal static class SideBySide
{
    public static void Run(string first, string second, int rounds)
    {
        var body = Pilotage.Bench.Gateway.BenchPrompt.Body("realistic", "bench-boundary");
        var scrubs = new[] { Scrubber(first), Scrubber(second) };
        var cases = new (string Name, Action Run)[]
        {
            ("parse", () => Touch(JsonNode.Parse(body))),
            ("A: parse + scrub", () => scrubs[0](JsonNode.Parse(body)!.AsObject())),
            ("B: parse + scrub", () => scrubs[1](JsonNode.Parse(body)!.AsObject())),
        };
        var samples = AlternatedRounds.Measure(cases, rounds);
        Console.WriteLine($"A: {first}");
        Console.WriteLine($"B: {second}");
        for (var c = 0; c < cases.Length; c++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{cases[c].Name,-18} median {AlternatedRounds.Quantile(samples[c], 0.5),7:0.000} µs  (p10 {AlternatedRounds.Quantile(samples[c], 0.1):0.000}, p90 {AlternatedRounds.Quantile(samples[c], 0.9):0.000})"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"boundary's own cost (scrub - parse): A {AlternatedRounds.Quantile(samples[1], 0.5) - AlternatedRounds.Quantile(samples[0], 0.5):0.000} µs, B {AlternatedRounds.Quantile(samples[2], 0.5) - AlternatedRounds.Quantile(samples[0], 0.5):0.000} µs (p10s: A {AlternatedRounds.Quantile(samples[1], 0.1) - AlternatedRounds.Quantile(samples[0], 0.1):0.000}, B {AlternatedRounds.Quantile(samples[2], 0.1) - AlternatedRounds.Quantile(samples[0], 0.1):0.000})"));
        var differences = samples[2].Zip(samples[1], (b, a) => b - a).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"B - A in the same round: median {AlternatedRounds.Quantile(differences, 0.5):0.000} µs (p25 {AlternatedRounds.Quantile(differences, 0.25):0.000}, p75 {AlternatedRounds.Quantile(differences, 0.75):0.000})"));
    }

    // The gateway bench's boundary system (Pilotage.Bench.Gateway, pilotage-boundary), as GatewayPath in Program sets it.
    private static readonly string[] Blocked = ["credit_card", "iban", "secret", "us_ssn", "uk_nino", "eu_vat"];
    private static readonly string[] Redacted = ["email", "phone"];

    /// <summary>The build's <c>RequestScrubber.Scrub</c> with the gateway bench's boundary policy, as a compiled call.</summary>
    private static Action<JsonObject> Scrubber(string folder)
    {
        var core = new BuildContext(folder).LoadFromAssemblyPath(Path.GetFullPath(Path.Combine(folder, "Pilotage.Core.dll")));
        var specType = core.GetType("Pilotage.Core.Specs.DataBoundarySpec", throwOnError: true)!;
        var spec = Activator.CreateInstance(specType)!;
        specType.GetProperty("Block")!.SetValue(spec, Blocked);
        specType.GetProperty("Redact")!.SetValue(spec, Redacted);
        specType.GetProperty("Answers")!.SetValue(spec, Enum.Parse(core.GetType("Pilotage.Core.Specs.AnswerBoundaryMode", throwOnError: true)!, "Redact"));
        var policyType = core.GetType("Pilotage.Core.DataBoundary.DataBoundaryPolicy", throwOnError: true)!;
        var policy = policyType.GetMethod("From", [specType, typeof(TimeSpan?)])!.Invoke(null, [spec, null])!;
        var budget = core.GetType("Pilotage.Core.DataBoundary.BoundaryBudget", throwOnError: true)!;
        var redacted = core.GetType("Pilotage.Core.DataBoundary.RedactedValues", throwOnError: true)!;
        var scrub = core.GetType("Pilotage.Core.DataBoundary.RequestScrubber", throwOnError: true)!
            .GetMethod("Scrub", [typeof(JsonObject), policyType, budget, redacted])!;
        var request = Expression.Parameter(typeof(JsonObject));
        var call = Expression.Call(scrub, request, Expression.Constant(policy, policyType), Expression.Constant(null, budget), Expression.Constant(Enum.Parse(redacted, "Utf8"), redacted));
        return Expression.Lambda<Action<JsonObject>>(call, request).Compile();
    }

    private static void Touch(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (_, child) in o)
                {
                    Touch(child);
                }
                break;
            case JsonArray a:
                foreach (var child in a)
                {
                    Touch(child);
                }
                break;
            default:
                break;
        }
    }

    /// <summary>Loads a build's own assemblies from its folder; the framework's (System.Text.Json among them) are shared.</summary>
    private sealed class BuildContext(string folder) : AssemblyLoadContext(isCollectible: false)
    {
        protected override Assembly? Load(AssemblyName assemblyName)
        {
            var path = Path.GetFullPath(Path.Combine(folder, assemblyName.Name + ".dll"));
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
