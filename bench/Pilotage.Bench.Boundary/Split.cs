using System.Globalization;
using System.Text.Json.Nodes;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Bench.Boundary;

/// <summary>
/// <c>--split [rounds]</c>: where the realistic request's scrub goes, detector by detector, in one process. The request is
/// parsed and scrubbed, as the gateway does, with its boundary system's policy and with policies of one detector each,
/// beside the parse alone, alternated round by round (a busy machine loads every case alike). With the card detector
/// alone nothing runs on this conversation (no run of 13 digits): the request's walk and each text's normalisation are
/// all it pays, and each other case less that one is what its detector adds, its hits' recording included.
/// </summary>
internal static class Split
{
    public static void Run(int rounds)
    {
        var body = Pilotage.Bench.Gateway.BenchPrompt.Body("realistic", "bench-boundary");
        var gateway = DataBoundaryPolicy.From(new DataBoundarySpec
        {
            Block = ["credit_card", "iban", "secret", "us_ssn", "uk_nino", "eu_vat"],
            Redact = ["email", "phone"],
        });
        var cases = new List<(string Name, Action Run)> { ("parse", () => Touch(JsonNode.Parse(body))) };
        cases.Add(("scrub, gateway policy", Scrub(gateway)));
        cases.Add(("scrub, credit_card alone", Scrub(One("credit_card", block: true))));
        cases.Add(("scrub, secret alone", Scrub(One("secret", block: true))));
        cases.Add(("scrub, email alone", Scrub(One("email", block: false))));
        cases.Add(("scrub, phone alone", Scrub(One("phone", block: false))));

        var samples = AlternatedRounds.Measure(cases, rounds);
        var parse = AlternatedRounds.Quantile(samples[0], 0.5);
        var walk = AlternatedRounds.Quantile(samples[2], 0.5);
        for (var c = 0; c < cases.Count; c++)
        {
            var median = AlternatedRounds.Quantile(samples[c], 0.5);
            var line = $"{cases[c].Name,-26} median {median,7:0.000} µs";
            if (c > 0)
            {
                line += $"  less parse {median - parse,6:0.000} µs";
            }
            if (c > 2)
            {
                // Paired in the round, as the side by side mode does: the detector's own share.
                var own = samples[c].Zip(samples[2], (a, b) => a - b).ToArray();
                line += $"  less credit_card alone {AlternatedRounds.Quantile(own, 0.5),6:0.000} µs";
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{line}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"the request's walk and the texts' normalisation (credit_card alone less parse): {walk - parse:0.000} µs"));

        Action Scrub(DataBoundaryPolicy policy) => () => _ = RequestScrubber.Scrub(JsonNode.Parse(body)!.AsObject(), policy, null, RedactedValues.Utf8);
    }

    private static DataBoundaryPolicy One(string detector, bool block) =>
        DataBoundaryPolicy.From(block ? new DataBoundarySpec { Block = [detector] } : new DataBoundarySpec { Redact = [detector] });

    // By index, as the gateway walks a tree (see Program.GatewayPath).
    private static void Touch(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                for (var i = 0; i < o.Count; i++)
                {
                    Touch(o.GetAt(i).Value);
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    Touch(a[i]);
                }
                break;
            default:
                break;
        }
    }
}
