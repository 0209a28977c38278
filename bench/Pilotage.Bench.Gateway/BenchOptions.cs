using System.Globalization;

namespace Pilotage.Bench.Gateway;

/// <summary>Command line of both the orchestrator and the <c>--load</c> child.</summary>
internal sealed class BenchOptions
{
    public int Seconds { get; private set; } = 5;
    public int Rate { get; private set; } = 200;
    public int Concurrency { get; private set; } = 32;
    public int Rounds { get; private set; } = 3;
    public int Warmup { get; private set; } = 3;
    public bool LoadMode { get; private set; }

    /// <summary>Child only: <c>--servers</c> runs the instant upstream and YARP until standard input closes.</summary>
    public bool ServersMode { get; private set; }

    /// <summary>Child only, with <c>--servers</c>: the upstream alone, YARP being in a child of its own.</summary>
    public bool UpstreamOnly { get; private set; }

    /// <summary>Child only: <c>--yarp-for URL</c> runs YARP alone, in front of that upstream.</summary>
    public string? YarpFor { get; private set; }

    /// <summary><c>--yarp-process own|shared</c>: YARP in a process of its own (default), or in the upstream's (see ServerChild).</summary>
    public bool YarpInOwnProcess { get; private set; } = true;

    /// <summary><c>--mode alloc</c>: bytes allocated and CPU time per request, in process (see AllocMode).</summary>
    public string Mode { get; private set; } = "bench";

    /// <summary>Alloc mode: requests per target and round.</summary>
    public int Requests { get; private set; } = 4000;

    /// <summary>Alloc mode: also print the most allocated types (sampled GCAllocationTick events).</summary>
    public bool AllocTypes { get; private set; }

    /// <summary><c>--prompt short|realistic</c>: the request every target is sent (see <see cref="BenchPrompt"/>).</summary>
    public string Prompt { get; private set; } = "short";

    /// <summary>Measure only these targets (besides direct and, in bench mode, YARP: the baselines), e.g. for a CPU profile of one of them.</summary>
    public List<string> Only { get; } = [];

    /// <summary><c>--store sqlite|postgres|both</c>: which passes run (PostgreSQL needs PILOTAGE_BENCH_POSTGRES).</summary>
    public string Store { get; private set; } = "both";

    /// <summary>
    /// Diagnostic: sets ASP.NET Core's switch that suppresses its "a single registered scheme is the default" rule.
    /// Pilotage registers two named schemes (API key, dashboard cookie), so neither is the default and the switch
    /// changes nothing; with a lone default scheme, its handler would run on every gateway request.
    /// </summary>
    public bool SuppressAutoDefaultScheme { get; private set; }

    /// <summary>
    /// <c>--responses</c>: also the OpenAI Responses API (<c>/v1/responses</c>) through YARP and through Pilotage (a
    /// system whose upstream speaks <c>openai-responses</c>), beside chat completions in the same pass.
    /// </summary>
    public bool Responses { get; private set; }

    /// <summary>
    /// Alloc mode, <c>--protocol chat|responses|anthropic</c>: the API that direct, YARP and <c>pilotage-async</c> are
    /// called in (Pilotage's system then has an upstream of that protocol, so the body passes through), and for another
    /// API than chat, <c>pilotage-async-translated</c>: the same client in front of a chat-completions upstream.
    /// </summary>
    public string Protocol { get; private set; } = "chat";

    /// <summary><c>--sweep</c>, <c>--mixed</c>, <c>--replicas</c>: a capacity mode instead of the side-by-side pass (see <see cref="Capacity"/>).</summary>
    public string? CapacityMode { get; private set; }

    /// <summary>Sweep: the connection counts stepped through (<c>--steps 8,16,32</c>).</summary>
    public List<int> Steps { get; } = [];

    /// <summary>Capacity modes: connections per API key (the gateway caps answers in flight per key), so keys grow with connections.</summary>
    public int ConnectionsPerKey { get; private set; } = 32;

    /// <summary>Child only: <c>--capacity-load</c>, the load of a capacity mode (several keys and replicas per target).</summary>
    public bool CapacityLoad { get; private set; }

    /// <summary>Child only, with <c>--capacity-load</c>: every target at once instead of one after another.</summary>
    public bool Together { get; private set; }

    /// <summary>Child only: <c>name=url|bearer|model</c>, and <c>|path</c> for another API than chat completions.</summary>
    public List<LoadTarget> Targets { get; } = [];

    /// <summary>Null when help was asked for.</summary>
    public static BenchOptions? Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Positive() => int.Parse(Next(), CultureInfo.InvariantCulture) is var v && v > 0 ? v : throw new ArgumentException($"{args[i]} must be positive");
            switch (args[i])
            {
                case "--seconds": o.Seconds = Positive(); break;
                case "--rate": o.Rate = Positive(); break;
                case "--concurrency": o.Concurrency = Positive(); break;
                case "--rounds": o.Rounds = Positive(); break;
                case "--warmup": o.Warmup = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--load": o.LoadMode = true; break;
                case "--servers": o.ServersMode = true; break;
                case "--upstream-only": o.UpstreamOnly = true; break;
                case "--yarp-for": o.YarpFor = Next(); break;
                case "--yarp-process": o.YarpInOwnProcess = Next() switch { "own" => true, "shared" => false, _ => throw new ArgumentException("--yarp-process is own or shared") }; break;
                case "--mode": o.Mode = Next() is "bench" or "alloc" ? args[i] : throw new ArgumentException("--mode is bench or alloc"); break;
                case "--requests": o.Requests = Positive(); break;
                case "--prompt": o.Prompt = Next() is "short" or "realistic" ? args[i] : throw new ArgumentException("--prompt is short or realistic"); break;
                case "--types": o.AllocTypes = true; break;
                case "--only": o.Only.Add(Next()); break;
                case "--store": o.Store = Next() is "sqlite" or "postgres" or "both" ? args[i] : throw new ArgumentException("--store is sqlite, postgres or both"); break;
                case "--responses": o.Responses = true; break;
                case "--protocol": o.Protocol = Next() is "chat" or "responses" or "anthropic" ? args[i] : throw new ArgumentException("--protocol is chat, responses or anthropic"); break;
                case "--suppress-auto-default-scheme": o.SuppressAutoDefaultScheme = true; break;
                case "--target": o.Targets.Add(LoadTarget.Parse(Next())); break;
                case "--sweep": o.CapacityMode = "sweep"; break;
                case "--mixed": o.CapacityMode = "mixed"; break;
                case "--replicas": o.CapacityMode = "replicas"; break;
                case "--steps": o.Steps.AddRange(Next().Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture) is var n && n > 0 ? n : throw new ArgumentException("--steps are positive connection counts, e.g. 8,16,32"))); break;
                case "--connections-per-key": o.ConnectionsPerKey = Positive(); break;
                case "--capacity-load": o.CapacityLoad = true; break;
                case "--together": o.Together = true; break;
                case "-h" or "--help": return null;
                default: throw new ArgumentException($"unknown argument {args[i]} (try --help)");
            }
        }
        return o;
    }

    public IEnumerable<string> ChildArguments(IEnumerable<LoadTarget> targets)
    {
        string[] common =
        [
            "--load",
            "--seconds", Seconds.ToString(CultureInfo.InvariantCulture),
            "--rate", Rate.ToString(CultureInfo.InvariantCulture),
            "--concurrency", Concurrency.ToString(CultureInfo.InvariantCulture),
            "--rounds", Rounds.ToString(CultureInfo.InvariantCulture),
            "--warmup", Warmup.ToString(CultureInfo.InvariantCulture),
            "--prompt", Prompt,
        ];
        return common.Concat(targets.SelectMany(t => new[] { "--target", t.Format() }));
    }
}

/// <summary>Where the load generator sends its requests: chat completions, or the API at <see cref="Path"/>.</summary>
internal sealed record LoadTarget(string Name, string Url, string Bearer, string Model, string Path = LoadTarget.ChatPath)
{
    public const string ChatPath = "v1/chat/completions";
    public const string ResponsesPath = "v1/responses";
    public const string MessagesPath = "v1/messages";

    /// <summary>The path of a client protocol (<c>--protocol</c>): chat, responses or anthropic.</summary>
    public static string PathOf(string protocol) => protocol switch { "responses" => ResponsesPath, "anthropic" => MessagesPath, _ => ChatPath };

    public string Format() => Path == ChatPath ? $"{Name}={Url}|{Bearer}|{Model}" : $"{Name}={Url}|{Bearer}|{Model}|{Path}";

    /// <summary>The body of one request: the same question, in the shape of the target's API.</summary>
    public string Body(string question) => Path switch
    {
        ResponsesPath => $$"""{"model":"{{Model}}","input":"{{question}}"}""",
        MessagesPath => $$"""{"model":"{{Model}}","max_tokens":256,"messages":[{"role":"user","content":"{{question}}"}]}""",
        _ => $$"""{"model":"{{Model}}","messages":[{"role":"user","content":"{{question}}"}]}""",
    };

    public static LoadTarget Parse(string text)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        var parts = text[(eq + 1)..].Split('|');
        if (eq <= 0 || parts.Length is not (3 or 4)) throw new ArgumentException($"bad target '{text}'");
        return new LoadTarget(text[..eq], parts[0], parts[1], parts[2], parts.Length == 4 ? parts[3] : ChatPath);
    }
}
