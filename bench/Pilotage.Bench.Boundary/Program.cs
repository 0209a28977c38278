using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

// The data boundary's cost on a 4 KB prompt with every built-in detector, as medians of many timed batches, with
// baselines measured in the same run: copying the prompt (a floor any scan pays) and parsing a 4 KB request body
// (what the gateway does to every request anyway). Runs well under a minute.
// Usage: dotnet run -c Release --project bench/Pilotage.Bench.Boundary [batches] [--gateway]
//   --gateway   only what the gateway bench's boundary system adds to a request, one-line and realistic prompt; then the
//               whole of it on the realistic request through the tree and from the parsed elements, side by side
//   --hits      what the realistic prompt's two e-mail hits cost once found: the request beside the same one made harmless
//   --side-by-side DIR_A DIR_B [rounds]   the realistic request's parse + scrub by two builds (their output folders) in one process
//   --split [rounds]   the realistic request's scrub with the gateway's policy and with one detector at a time, in one process
if (args is ["--side-by-side", var first, var second, ..])
{
    Pilotage.Bench.Boundary.SideBySide.Run(first, second, args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 400);
    return;
}
if (args is ["--split", ..])
{
    Pilotage.Bench.Boundary.Split.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000);
    return;
}
var gatewayOnly = args.Contains("--gateway");
var hitsOnly = args.Contains("--hits");
args = [.. args.Where(a => a is not "--gateway" and not "--hits")];
var batches = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
if (gatewayOnly)
{
    GatewayPath(batches);
    return;
}
if (hitsOnly)
{
    HitCost(batches);
    return;
}

var all = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = [.. DataBoundaryPolicy.BuiltInDetectors] });
var clean = Prompt(ascii: true, hits: false);
var accented = Prompt(ascii: false, hits: false);
var withHits = Prompt(ascii: true, hits: true);
var scripts = Scripts();
var body = new JsonObject { ["model"] = "m", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = clean }) }.ToJsonString();

Console.WriteLine($"prompt: {clean.Length} characters; detectors: {string.Join(", ", DataBoundaryPolicy.BuiltInDetectors)}; {batches} batches");
var copy = Measure("baseline: copy the 4 KB prompt", () => _ = new string(clean.AsSpan()));
var parse = Measure("baseline: parse a 4 KB request body", () => _ = JsonNode.Parse(body));
var scanClean = Measure("scan: 4 KB ASCII prose, no hit", () => _ = all.Apply(clean));
var scanAccented = Measure("scan: 4 KB prose with accents and no-break spaces", () => _ = all.Apply(accented));
var scanScripts = Measure("scan: 4 KB Cyrillic, CJK and Arabic prose with digits", () => _ = all.Apply(scripts));
var scanHits = Measure("scan: 4 KB prose with a card, an IBAN, an address, a phone", () => _ = all.Apply(withHits));
var walk = Measure("walk: parse + scrub a 4 KB chat request", () => _ = RequestScrubber.Scrub(JsonNode.Parse(body)!.AsObject(), all));

// What the gateway bench's boundary system adds to one request: the request's walk (the gateway parses the body
// anyway) and the answer's filter (parsed only for the boundary).
var gateway = DataBoundaryPolicy.From(new DataBoundarySpec
{
    Block = ["credit_card", "iban", "secret", "us_ssn", "uk_nino", "eu_vat"],
    Redact = ["email", "phone"],
    Answers = AnswerBoundaryMode.Redact,
});
var conversation = Pilotage.Bench.Gateway.BenchPrompt.Body("realistic", "m");
var answer = """{"id":"chatcmpl-bench","object":"chat.completion","created":1764000000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"Thank you for your message. We will refund the order within 5 days."},"finish_reason":"stop"}],"usage":{"prompt_tokens":120,"completion_tokens":40,"total_tokens":160},"system_fingerprint":"fp_bench"}"""u8.ToArray();
var parseConversation = Measure("gateway: parse the realistic 2 KB conversation", () => _ = JsonNode.Parse(conversation));
var scrubConversation = Measure("gateway: parse + scrub it (all detectors)", () => _ = RequestScrubber.Scrub(JsonNode.Parse(conversation)!.AsObject(), gateway));
var filterAnswer = Measure("gateway: filter the answer (all detectors, redact)", () => _ = gateway.Answers!.Filter(answer, out _));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"gateway: boundary's own cost per request",-62} {scrubConversation - parseConversation + filterAnswer,8:0.00} µs"));

foreach (var detector in DataBoundaryPolicy.BuiltInDetectors)
{
    var one = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = [detector] });
    Measure($"  {detector} alone, clean ASCII prompt", () => _ = one.Apply(clean));
    Measure($"  {detector} alone, Cyrillic, CJK and Arabic prompt", () => _ = one.Apply(scripts));
}

// Built-in detectors run without a timeout because each is linear by construction: on the inputs that would make a
// backtracking pattern super-linear, the cost per character must stay flat from 16 KB to 256 KB.
Console.WriteLine();
Console.WriteLine("adversarial inputs, every built-in detector: ns per character at 16 KB, 64 KB and 256 KB (quadratic: x4 per step)");
foreach (var (name, unit) in Adversarial())
{
    var perChar = Sizes.Select(kb =>
    {
        var text = Repeat(unit, kb * 1024);
        return Once(() => _ = all.Apply(text), 5) * 1000 / text.Length;
    }).ToArray();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-50} {perChar[0],7:0.0} {perChar[1],7:0.0} {perChar[2],7:0.0} ns"));
}

Console.WriteLine();
Console.WriteLine($"clean scan / copy            {scanClean / copy,8:0.0}x");
Console.WriteLine($"clean scan / parse           {scanClean / parse,8:0.00}x");
Console.WriteLine($"accented scan / clean scan   {scanAccented / scanClean,8:0.0}x");
Console.WriteLine($"scripts scan / clean scan    {scanScripts / scanClean,8:0.0}x");
Console.WriteLine($"scan with hits / clean scan  {scanHits / scanClean,8:0.0}x");
Console.WriteLine($"parse + walk / parse         {walk / parse,8:0.00}x");

double Measure(string label, Action action) => Program.Measure(label, action, batches);

// The request and answer path of the gateway bench's boundary system (Pilotage.Bench.Gateway, pilotage-boundary), on
// the one-line and the realistic prompt: each step beside the parse the gateway does anyway, so that the boundary's
// own cost per request reads as the difference.
static void GatewayPath(int batches)
{
    var gateway = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Block = ["credit_card", "iban", "secret", "us_ssn", "uk_nino", "eu_vat"],
        Redact = ["email", "phone"],
        Answers = AnswerBoundaryMode.Redact,
    });
    var answer = """{"id":"chatcmpl-bench","object":"chat.completion","created":1764000000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"Thank you for your message. We will refund the order within 5 days."},"finish_reason":"stop"}],"usage":{"prompt_tokens":120,"completion_tokens":40,"total_tokens":160},"system_fingerprint":"fp_bench"}"""u8.ToArray();
    // For a profiler (perf record -g, DOTNET_PerfMapEnabled=1): PILOTAGE_BENCH_LOOP seconds of exactly what a case below
    // times, on PILOTAGE_BENCH_PROMPT (short or realistic). PILOTAGE_BENCH_CASE: "scrub" (parse + scrub, as the gateway
    // scrubs: the default), "parse" (the baseline: parse and build the tree), "filter" (the answer's filter). Profile
    // "scrub" and "parse" alike and subtract: what is left is the boundary's own.
    if (Environment.GetEnvironmentVariable("PILOTAGE_BENCH_LOOP") is { } loop)
    {
        var one = Pilotage.Bench.Gateway.BenchPrompt.Body(Environment.GetEnvironmentVariable("PILOTAGE_BENCH_PROMPT") ?? "short", "bench-boundary");
        Action step = Environment.GetEnvironmentVariable("PILOTAGE_BENCH_CASE") switch
        {
            "parse" => () => Touch(JsonNode.Parse(one)),
            "filter" => () => _ = gateway.Answers!.Filter(answer, out _),
            _ => () => _ = RequestScrubber.Scrub(JsonNode.Parse(one)!.AsObject(), gateway, null, RedactedValues.Utf8),
        };
        var until = Stopwatch.StartNew();
        long calls = 0;
        while (until.Elapsed.TotalSeconds < double.Parse(loop, CultureInfo.InvariantCulture))
        {
            for (var i = 0; i < 1000; i++)
            {
                step();
            }
            calls += 1000;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{calls} calls, {until.Elapsed.TotalMicroseconds / calls:0.00} µs each"));
        return;
    }
    // Twice: the first pass warms every path (tiered compilation), the second is the one to read.
    foreach (var (pass, prompt) in new[] { (1, "short"), (1, "realistic"), (2, "short"), (2, "realistic") })
    {
        if (pass == 2 && prompt == "short") Console.WriteLine("-- the same, warm:");
        var body = Pilotage.Bench.Gateway.BenchPrompt.Body(prompt, "bench-boundary");
        // The gateway reads every message of a chat request (RequestShape), so the baseline builds the whole tree.
        var parse = Program.Measure($"{prompt}: parse the request and build its tree (the gateway does)", () => Touch(JsonNode.Parse(body)), batches);
        // As the gateway scrubs: a redacted message goes back as the request's UTF-8 with its placeholders.
        var scrub = Program.Measure($"{prompt}: parse + scrub the request", () => _ = RequestScrubber.Scrub(JsonNode.Parse(body)!.AsObject(), gateway, null, RedactedValues.Utf8), batches);
        var filter = Program.Measure($"{prompt}: filter the answer", () => _ = gateway.Answers!.Filter(answer, out _), batches);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{prompt + ": boundary's own cost per request",-62} {scrub - parse + filter,8:0.00} µs"));
        // The gateway then serialises the body it sends: a redacted message is written there, so its cost shows with it.
        var sent = Program.Measure($"{prompt}: parse, build the tree, serialise (the gateway does)", () => { var tree = JsonNode.Parse(body); Touch(tree); _ = JsonSerializer.SerializeToUtf8Bytes(tree); }, batches);
        var scrubbedSent = Program.Measure($"{prompt}: parse + scrub, serialise", () =>
        {
            var tree = JsonNode.Parse(body)!.AsObject();
            RequestScrubber.Scrub(tree, gateway, null, RedactedValues.Utf8);
            _ = ScrubbedBody.ToUtf8Bytes(tree);
        }, batches);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{prompt + ": the same, serialised",-62} {scrubbedSent - sent + filter,8:0.00} µs"));
    }
    // The whole of the request's boundary work, the tree's way and the elements', side by side (the gateway now takes the
    // elements' for a chat client's request to a chat system).
    Pilotage.Bench.Boundary.WholeBoundary.Run(gateway, batches);

    // By index, as the scrub walks: foreach over a JsonObject boxes its enumerator, which the gateway never allocates
    // (320 B on the realistic conversation, which the parse's bytes then counted and the scrub's did not).
    static void Touch(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                for (var i = 0; i < o.Count; i++) Touch(o.GetAt(i).Value);
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++) Touch(a[i]);
                break;
            default:
                break;
        }
    }
}

// The realistic prompt's two e-mail addresses, recorded and redacted, beside the same request with each address cut
// before its top-level domain ("dana.lee@example"): the e-mail detector still reads it, and finds nothing. The difference
// is what two hits cost once found: the evidence of each, the redacted message, and the body written with it.
static void HitCost(int batches)
{
    var gateway = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Block = ["credit_card", "iban", "secret", "us_ssn", "uk_nino", "eu_vat"],
        Redact = ["email", "phone"],
        Answers = AnswerBoundaryMode.Redact,
    });
    var body = Pilotage.Bench.Gateway.BenchPrompt.Body("realistic", "bench-boundary");
    var harmless = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("dana.lee@example.org", "dana.lee@example", StringComparison.Ordinal));
    // For a profiler (perf record -p): the request with its hits scrubbed and serialised in a loop, PILOTAGE_BENCH_LOOP seconds.
    if (Environment.GetEnvironmentVariable("PILOTAGE_BENCH_LOOP") is { } loop)
    {
        var until = Stopwatch.StartNew();
        while (until.Elapsed.TotalSeconds < double.Parse(loop, CultureInfo.InvariantCulture))
        {
            for (var i = 0; i < 1000; i++) Send(body);
        }
        return;
    }
    for (var pass = 1; pass <= 2; pass++)
    {
        if (pass == 2) Console.WriteLine("-- the same, warm:");
        var scrub = Program.Measure("with the addresses: parse + scrub", () => _ = RequestScrubber.Scrub(JsonNode.Parse(body)!.AsObject(), gateway, null, RedactedValues.Utf8), batches);
        var scrubHarmless = Program.Measure("made harmless:      parse + scrub", () => _ = RequestScrubber.Scrub(JsonNode.Parse(harmless)!.AsObject(), gateway, null, RedactedValues.Utf8), batches);
        var sent = Program.Measure("with the addresses: parse + scrub + serialise", () => Send(body), batches);
        var sentHarmless = Program.Measure("made harmless:      parse + scrub + serialise", () => Send(harmless), batches);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"two hits, scrub",-62} {scrub - scrubHarmless,8:0.00} µs"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"two hits, scrub + serialise",-62} {sent - sentHarmless,8:0.00} µs"));
    }

    void Send(byte[] json)
    {
        var tree = JsonNode.Parse(json)!.AsObject();
        _ = RequestScrubber.Scrub(tree, gateway, null, RedactedValues.Utf8);
        _ = ScrubbedBody.ToUtf8Bytes(tree);
    }
}

static double Once(Action action, int runs)
{
    action();
    var samples = new double[runs];
    for (var i = 0; i < runs; i++)
    {
        var clock = Stopwatch.StartNew();
        action();
        samples[i] = clock.Elapsed.TotalMicroseconds;
    }
    Array.Sort(samples);
    return samples[runs / 2];
}

static string Repeat(string unit, int length)
{
    var text = new StringBuilder(length + unit.Length);
    while (text.Length < length) text.Append(unit);
    return text.ToString(0, length);
}

static (string Name, string Unit)[] Adversarial() =>
[
    ("digit groups (card, phone runs)", "1234 "),
    ("IBAN-shaped run then groups (phone look-behind)", "AB12 1234 "),
    ("long local part, no domain (e-mail)", "abcdefgh"),
    ("many '@' and dotted labels (e-mail)", "a@b.c."),
    ("SSN-shaped fragments", "123-45-"),
    ("NINO/VAT-shaped fragments", "AB12 DE1"),
    ("token prefixes (secret)", "glpat-ghp_AKIAeyJ"),
    ("JWT-shaped parts (secret)", "eyJhbGciOiJIUzI1NiJ9."),
    ("private key headers (secret)", "-----BEGIN PRIVATE KEY-----AAAA"),
    ("private key end markers (secret)", "-----END X"),
    ("Cyrillic prose with digits", "Клиент написал 12 раз о заказе 55213. "),
];

static string Scripts()
{
    string[] sentences =
    [
        "Клиент написал во вторник о заказе 55213 и спросил, обработан ли возврат на сумму 129,90 EUR.",
        "顾客于11月18日就订单55213来信，询问退款是否已在5至7个工作日内处理。",
        "كتب العميل يوم الثلاثاء بشأن الطلب 55213 وسأل عما إذا تمت معالجة استرداد المبلغ خلال 30 يومًا.",
        "Версия 2.4.1 приложения показывает статус в разделе «Заказы»; итог — 19% НДС.",
    ];
    var text = new StringBuilder();
    for (var i = 0; text.Length < 4096; i++) text.Append(sentences[i % sentences.Length]).Append(' ');
    return text.ToString(0, 4096);
}

static string Prompt(bool ascii, bool hits)
{
    var sentences = ascii
        ? new[]
        {
            "The customer wrote in on Tuesday about order 55213 and asked whether the refund had been processed.",
            "Our policy allows returns within 30 days of delivery, provided the item is unused and in its original packaging.",
            "Please draft a polite reply that explains the next steps, mentions the 5 to 7 working days it takes, and thanks them.",
            "Version 2.4.1 of the app shows the status under Orders; the total was 129.90 EUR including 19% VAT.",
        }
        : new[]
        {
            "Le client a écrit mardi au sujet de la commande 55213 et demande si le remboursement a été traité.",
            "Unsere Rückgabefrist beträgt 30\u00a0Tage ab Lieferung, sofern der Artikel unbenutzt und originalverpackt ist.",
            "Merci de rédiger une réponse polie qui explique les étapes suivantes\u00a0: 5 à 7 jours ouvrés, et le remercie.",
            "La versión 2.4.1 muestra el estado en «Pedidos»; el total fue 129,90\u00a0€ con el 19\u00a0% de IVA.",
        };
    var text = new StringBuilder();
    for (var i = 0; text.Length < 4096; i++)
    {
        text.Append(sentences[i % sentences.Length]).Append(' ');
        if (hits && i == 10) text.Append("Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, mail dana@example.org, phone +44 20 7946 0958. ");
    }
    return text.ToString(0, 4096);
}

internal static partial class Program
{
    private static readonly int[] Sizes = [16, 64, 256];

    internal static double Measure(string label, Action action, int batches)
    {
        // Each batch runs long enough (about 2 ms) for the timer; the median of the batches is reported. The warm-up runs
        // for half a second at least, so that the JIT has optimised what the case calls before it is timed (with 2,000
        // calls alone, the first cases were timed partly unoptimised: 4 KB of ASCII prose read 14 µs instead of 6).
        var warm = Stopwatch.StartNew();
        for (var i = 0; i < 2000 || warm.Elapsed < TimeSpan.FromMilliseconds(500); i++) action();
        var perBatch = 1;
        var probe = Stopwatch.StartNew();
        while (probe.Elapsed < TimeSpan.FromMilliseconds(2))
        {
            action();
            perBatch++;
        }
        var samples = new double[batches];
        for (var b = 0; b < batches; b++)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < perBatch; i++) action();
            samples[b] = clock.Elapsed.TotalMicroseconds / perBatch;
        }
        Array.Sort(samples);
        var median = samples[batches / 2];
        // Bytes allocated per call, read after the timing so that it does not disturb it.
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++) action();
        var bytes = (GC.GetAllocatedBytesForCurrentThread() - before) / 100;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label,-62} median {median,8:0.00} µs  (p10 {samples[batches / 10]:0.00}, p90 {samples[batches * 9 / 10]:0.00})  {bytes,7} B"));
        return median;
    }
}
