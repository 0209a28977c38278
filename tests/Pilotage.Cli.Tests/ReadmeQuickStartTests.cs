using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

/// <summary>
/// The README's "Run it for real" section, followed step by step against a fresh server: its commands
/// are read from README.md when the test runs, never copied here, so the test fails as soon as a
/// command the README shows stops working (or the README shows one in the wrong order, such as the
/// gateway call before the training acknowledgement). The only set-up is what the README leaves to the
/// reader: the server it starts, the Ollama model it points at (a fake one here, through a copy of the
/// examples), the interaction id and reply text of the review, and where the report is written.
/// </summary>
public sealed partial class ReadmeQuickStartTests : IAsyncLifetime
{
    private readonly ServerFixture _server = new();
    private readonly TempDirectory _home = new("pilotage-readme");
    private FakeUpstream _upstream = null!;

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        _upstream = await FakeUpstream.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        await _server.DisposeAsync();
        _home.Dispose();
    }

    [Fact]
    public async Task Every_command_of_the_readme_quick_start_works_in_the_order_given()
    {
        var steps = QuickStart(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "README.md")));
        var examples = CopyExamples();
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        string? interactionId = null;
        (HttpMethod, Uri, Dictionary<string, string>, string)? lastCall = null;
        var ran = new List<string>();

        foreach (var step in steps)
        {
            var words = ShellWords(step.Command, variables);
            switch (words[0])
            {
                case "./pilotage" when words[1] == "serve":
                    // The fresh server of this test plays the part of 'pilotage serve'.
                    Assert.Contains("127.0.0.1:5080", step.Comment, StringComparison.Ordinal);
                    break;
                case "./pilotage":
                    var args = Arguments(words.Skip(1).ToList(), examples, interactionId);
                    var result = await Cli.RunWithAsync(Environment(), [.. args]);
                    Assert.DoesNotContain("   at ", result.Err, StringComparison.Ordinal);
                    if (step.Comment.StartsWith("refused", StringComparison.Ordinal))
                    {
                        Assert.True(result.ExitCode == 1, $"{step.Command}\nshould be refused ({step.Comment}):\n{result}");
                        result.ErrorLine();
                    }
                    else
                    {
                        Assert.True(result.ExitCode == 0, $"{step.Command}\n{result}");
                    }
                    if (step.Comment.Contains("no changes", StringComparison.Ordinal)) Assert.Contains("no changes", result.Out, StringComparison.Ordinal);
                    if (args[0] == "keys" && args[1] == "create") variables["MIA_KEY"] = KeySecret().Match(result.Out).Value;
                    if (step.Comment.Contains("the next request is refused", StringComparison.Ordinal))
                    {
                        Assert.True(lastCall is not null, "the README pauses before any request was sent");
                        using var refused = await SendAsync(lastCall.Value);
                        Assert.Equal(HttpStatusCode.Locked, refused.StatusCode);
                        Assert.Contains("system_paused", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                    }
                    ran.Add(string.Join(' ', args.Take(2)));
                    break;
                case "export":
                    // "export MIA_KEY=plt_…": the secret 'keys create' printed, which the test kept.
                    var name = words[1][..words[1].IndexOf('=', StringComparison.Ordinal)];
                    Assert.True(variables.ContainsKey(name), $"{step.Command}: no earlier command printed {name}");
                    break;
                case "curl":
                    lastCall = Curl(words);
                    using (var response = await SendAsync(lastCall.Value))
                    {
                        var body = await response.Content.ReadAsStringAsync();
                        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{step.Command}\n{(int)response.StatusCode} {body}");
                        Assert.Contains(_upstream.AnswerText, body, StringComparison.Ordinal);
                        interactionId = response.Headers.GetValues("x-pilotage-interaction-id").Single();
                    }
                    ran.Add("curl");
                    break;
                default:
                    Assert.Fail($"the README shows a command this test does not know how to run: {step.Command}");
                    break;
            }
        }

        // The walk-through the README promises, in this order.
        string[] expected = ["apply -f", "status", "apply -f", "users add", "keys create", "decide support-reply-drafts", "training show", "training ack",
            "curl", "pause support-reply-drafts", "resume support-reply-drafts", "audit verify", "audit checkpoint", "eval support-reply-drafts", "reviews --system",
            "review int_", "metrics support-reply-drafts", "report support-reply-drafts", "decide support-reply-drafts"];
        Assert.Equal(expected.Length, ran.Count);
        for (var i = 0; i < expected.Length; i++) Assert.StartsWith(expected[i], ran[i], StringComparison.Ordinal);
        // The evaluation went to the (fake) model: every case that was not blocked reached it.
        Assert.True(_upstream.Received.Count > 5, $"{_upstream.Received.Count} requests reached the model");
    }

    private Dictionary<string, string?> Environment() => new()
    {
        ["PILOTAGE_SERVER"] = _server.Url,
        ["PILOTAGE_TOKEN"] = ServerFixture.AdminToken,
        ["XDG_CONFIG_HOME"] = _home.Path,
    };

    /// <summary>The examples with the model pointed at the fake upstream instead of a local Ollama.</summary>
    private string CopyExamples()
    {
        var target = Path.Combine(_home.Path, "examples");
        foreach (var file in Directory.GetFiles(Path.Combine(RepoPaths.Root, "examples"), "*.yaml", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Path.Combine(RepoPaths.Root, "examples"), file);
            var copy = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.WriteAllText(copy, File.ReadAllText(file).Replace("http://127.0.0.1:11434/v1", _upstream.BaseUrl, StringComparison.Ordinal));
        }
        return target;
    }

    /// <summary>What the README leaves to the reader: files under examples/, the id of an answer, a reply file, the report's place.</summary>
    private List<string> Arguments(List<string> words, string examples, string? interactionId)
    {
        var args = new List<string>();
        foreach (var word in words)
        {
            if (word.StartsWith("examples/", StringComparison.Ordinal))
            {
                args.Add(Path.Combine(examples, word["examples/".Length..]));
            }
            else if (word == "<interaction-id>")
            {
                Assert.True(interactionId is not null, "the README reviews an answer before any was given");
                args.Add(interactionId);
            }
            else if (word == "reply.txt")
            {
                var reply = _home.File("reply.txt");
                File.WriteAllText(reply, "Dear customer, your refund for ticket 4711 is on its way.");
                args.Add(reply);
            }
            else
            {
                args.Add(word);
            }
        }
        if (args[0] == "report" && !args.Contains("-o")) args.AddRange(["-o", _home.File("report.html")]);
        return args;
    }

    private (HttpMethod, Uri, Dictionary<string, string>, string) Curl(List<string> words)
    {
        Uri? url = null;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var body = "";
        for (var i = 1; i < words.Count; i++)
        {
            switch (words[i])
            {
                case "-H":
                    var header = words[++i];
                    var colon = header.IndexOf(':', StringComparison.Ordinal);
                    headers[header[..colon].Trim()] = header[(colon + 1)..].Trim();
                    break;
                case "-d":
                    body = words[++i];
                    break;
                default:
                    // The README's address is the default of 'pilotage serve'; the test's server listens elsewhere.
                    var given = new Uri(words[i]);
                    Assert.Equal("http://127.0.0.1:5080", given.GetLeftPart(UriPartial.Authority));
                    url = new Uri(new Uri(_server.Url), given.PathAndQuery);
                    break;
            }
        }
        Assert.NotNull(url);
        return (HttpMethod.Post, url, headers, body);
    }

    private static async Task<HttpResponseMessage> SendAsync((HttpMethod Method, Uri Url, Dictionary<string, string> Headers, string Body) call)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(call.Method, call.Url)
        {
            Content = new StringContent(call.Body, Encoding.UTF8, call.Headers.GetValueOrDefault("Content-Type", "application/json")),
        };
        foreach (var (name, value) in call.Headers.Where(h => !h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)))
        {
            if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
            {
                var space = value.IndexOf(' ', StringComparison.Ordinal);
                request.Headers.Authorization = new AuthenticationHeaderValue(value[..space], value[(space + 1)..]);
            }
            else
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }
        return await http.SendAsync(request);
    }

    internal sealed record Step(string Command, string Comment);

    /// <summary>
    /// The shell lines of the README's "Run it for real" section (up to the next section), with line
    /// continuations joined and each trailing comment kept apart.
    /// </summary>
    internal static List<Step> QuickStart(string readme)
    {
        var start = readme.IndexOf("## Run it for real", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no 'Run it for real' section");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = readme[start..(end < 0 ? readme.Length : end)].ReplaceLineEndings("\n");
        var steps = new List<Step>();
        foreach (Match block in CodeBlock().Matches(section))
        {
            var joined = block.Groups[1].Value.Replace("\\\n", " ", StringComparison.Ordinal);
            foreach (var raw in joined.Split('\n'))
            {
                var line = raw.Trim();
                if (line.Length == 0) continue;
                var (command, comment) = SplitComment(line);
                steps.Add(new Step(command, comment));
            }
        }
        Assert.True(steps.Count > 10, $"only {steps.Count} commands found in the README's quick start");
        return steps;
    }

    /// <summary>Splits off a <c># comment</c> that is outside quotes.</summary>
    private static (string Command, string Comment) SplitComment(string line)
    {
        char? quote = null;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote is null && c is '\'' or '"') quote = c;
            else if (c == quote) quote = null;
            else if (quote is null && c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1]))) return (line[..i].TrimEnd(), line[(i + 1)..].Trim());
        }
        return (line, "");
    }

    /// <summary>Shell words: single quotes literal, double quotes and bare words with $NAME expanded.</summary>
    internal static List<string> ShellWords(string command, IReadOnlyDictionary<string, string> variables)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < command.Length; i++)
        {
            var c = command[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
                continue;
            }
            inWord = true;
            if (c == '\'')
            {
                var close = command.IndexOf('\'', i + 1);
                word.Append(command, i + 1, close - i - 1);
                i = close;
            }
            else if (c == '"')
            {
                var close = command.IndexOf('"', i + 1);
                word.Append(Expand(command[(i + 1)..close], variables));
                i = close;
            }
            else if (c == '$')
            {
                var name = Variable().Match(command, i + 1).Value;
                word.Append(Expand("$" + name, variables));
                i += name.Length;
            }
            else
            {
                word.Append(c);
            }
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }

    private static string Expand(string text, IReadOnlyDictionary<string, string> variables) =>
        DollarName().Replace(text, m => variables.TryGetValue(m.Groups[1].Value, out var value)
            ? value
            : throw new InvalidOperationException($"${m.Groups[1].Value} is used before the README sets it"));

    [GeneratedRegex("```sh\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    [GeneratedRegex("\\G[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Variable();

    [GeneratedRegex("\\$([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex DollarName();

    [GeneratedRegex("plt_[A-Za-z0-9_-]+")]
    private static partial Regex KeySecret();
}
