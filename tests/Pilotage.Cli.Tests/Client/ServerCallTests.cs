using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Pilotage.Cli.Client;
using Pilotage.Server.Systems;
using Pilotage.Server.Keys;

namespace Pilotage.Cli.Tests.Client;

/// <summary>
/// The one path every client verb takes to the server (<see cref="ServerCall"/>): what a refusal becomes
/// (message and exit code), and what is printed with and without <c>--json</c>. Against a real HTTP server
/// answering as told, so the rare answers (no body, no detail, not JSON) are covered too.
/// </summary>
public sealed class ServerCallTests : IAsyncLifetime
{
    private const string Keys = "GET /api/v1/keys";

    private const string KeyList = """
        [{"id":"k1","user":"dana@example.org","name":"laptop","createdAt":"2026-03-01T09:30:00Z","expiresAt":null,"revokedAt":null,"state":"active"},
         {"id":"k2","user":"eli@example.org","name":null,"createdAt":"2026-03-02T10:00:00Z","expiresAt":"2026-12-31T00:00:00Z","revokedAt":null,"state":"active"}]
        """;

    private AnsweringServer _server = null!;
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();

    public async Task InitializeAsync() => _server = await AnsweringServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _out.Dispose();
        _err.Dispose();
    }

    private ServerCall Call(bool json = false, string? token = "plt_test_key", string? url = null) =>
        new(new ControlClient(new Uri(url ?? _server.Url), token), new Output(new CliConsole(_out, _err, new Dictionary<string, string?>(), interactive: false)), json, CancellationToken.None);

    private static Task<CliException> Refusal(Func<Task> request) => Assert.ThrowsAnyAsync<CliException>(request);

    [Fact]
    public async Task A_401_with_a_key_is_the_servers_reason_and_exit_code_1()
    {
        _server.Problem(Keys, 401, "Unauthorized", "unknown API key");
        using var call = Call();

        var refusal = await Refusal(() => call.GetAsync("api/v1/keys"));

        Assert.Equal("unknown API key", refusal.Message);
        Assert.Equal(ExitCodes.Failure, refusal.ExitCode);
        Assert.Equal(401, Assert.IsType<ApiProblemException>(refusal).Status);
        Assert.Equal("Bearer plt_test_key", Assert.Single(_server.Authorizations));
    }

    [Fact]
    public async Task A_401_without_a_key_says_where_to_set_one()
    {
        _server.Problem(Keys, 401, "Unauthorized", "sign in with an API key");
        using var call = Call(token: null);

        var refusal = await Refusal(() => call.GetAsync("api/v1/keys"));

        Assert.Equal($"no API key for {_server.Url}: set --token or PILOTAGE_TOKEN (or run 'pilotage serve' on this machine, which saves the bootstrap token)", refusal.Message);
        Assert.Equal(ExitCodes.Failure, refusal.ExitCode);
        Assert.Equal("", Assert.Single(_server.Authorizations));
    }

    [Fact]
    public async Task A_403_is_the_detail_and_when_there_is_none_the_title()
    {
        _server.Problem(Keys, 403, "Forbidden", "only admins and auditors list everyone's keys; ask an admin");
        _server.Problem("DELETE /api/v1/keys/k1", 403, "You may not revoke this key", detail: null);
        using var call = Call();

        var withDetail = await Refusal(() => call.GetAsync("api/v1/keys"));
        var withTitle = await Refusal(() => call.SendAsync(HttpMethod.Delete, "api/v1/keys/k1"));

        Assert.Equal("only admins and auditors list everyone's keys; ask an admin", withDetail.Message);
        Assert.Equal("You may not revoke this key", withTitle.Message);
        foreach (var refusal in new[] { withDetail, withTitle })
        {
            Assert.Equal((403, ExitCodes.Failure), (Assert.IsType<ApiProblemException>(refusal).Status, refusal.ExitCode));
        }
    }

    [Fact]
    public async Task A_404_with_a_detail_is_the_detail_and_without_one_asks_whether_the_server_is_pilotage()
    {
        _server.Problem("GET /api/v1/systems/ghost", 404, "Not Found", "no system named 'ghost'");
        _server.Answer("GET /api/v1/nowhere", 404, "");
        using var call = Call();

        var known = await Refusal(() => call.GetAsync("api/v1/systems/ghost"));
        var unknown = await Refusal(() => call.GetAsync("api/v1/nowhere"));

        Assert.Equal("no system named 'ghost'", known.Message);
        Assert.Equal("the server answered 404 Not Found to GET /api/v1/nowhere; is --server pointing at a Pilotage server of the same version?", unknown.Message);
        Assert.Equal(ExitCodes.Failure, unknown.ExitCode);
    }

    [Fact]
    public async Task A_422_keeps_the_located_spec_errors_for_the_verb_to_print()
    {
        _server.Problem("POST /api/v1/systems/apply", 422, "Invalid spec", "1 problem in the spec",
            "\"errors\":[{\"source\":\"a.yaml\",\"path\":\"spec.pilot.ends\",\"message\":\"not a date\",\"line\":7,\"column\":12}]");
        using var call = Call();

        var refusal = await Refusal(() => call.SendAsync(HttpMethod.Post, "api/v1/systems/apply", new ApplyRequest([]), SystemsApiJsonContext.Default.ApplyRequest));

        var problem = Assert.IsType<ApiProblemException>(refusal);
        Assert.Equal((422, "1 problem in the spec", ExitCodes.Failure), (problem.Status, problem.Message, problem.ExitCode));
        Assert.Equal(new SpecErrorView("a.yaml", "spec.pilot.ends", "not a date", 7, 12), Assert.Single(problem.SpecErrors));
        Assert.Equal(JsonValueKind.Array, problem.Body.GetProperty("errors").ValueKind);
    }

    [Fact]
    public async Task No_server_listening_says_how_to_reach_one()
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        using var call = Call(url: url);

        var refusal = await Refusal(() => call.GetAsync("api/v1/keys"));

        Assert.Equal($"cannot reach the Pilotage server at {url}: is 'pilotage serve' running? set --server or PILOTAGE_SERVER", refusal.Message);
        Assert.Equal(ExitCodes.Failure, refusal.ExitCode);
    }

    [Fact]
    public async Task A_page_that_is_not_json_asks_whether_the_server_is_pilotage()
    {
        _server.Answer(Keys, 200, "<html>sign in</html>", "text/html");
        using var call = Call();

        var refusal = await Refusal(() => call.GetAsync("api/v1/keys"));

        Assert.Equal($"the server at {_server.Url} answered GET /api/v1/keys with something other than JSON; is --server pointing at Pilotage?", refusal.Message);
    }

    [Fact]
    public async Task An_empty_answer_where_a_view_is_expected_names_the_request()
    {
        _server.Answer("DELETE /api/v1/keys/k1", 200, "");
        using var call = Call();

        var answer = await call.SendAsync(HttpMethod.Delete, "api/v1/keys/k1");
        var refusal = Assert.Throws<CliException>(() => call.ShowLine(answer, KeysApiJsonContext.Default.KeyView, k => k.Id));

        Assert.Equal($"the server at {_server.Url} sent an empty answer to DELETE /api/v1/keys/k1", refusal.Message);
        Assert.Equal("", _out.ToString());
    }

    [Fact]
    public async Task With_json_a_list_is_printed_as_the_server_sent_it()
    {
        _server.Answer(Keys, 200, KeyList);
        using var call = Call(json: true);

        var code = call.Table(await call.GetAsync("api/v1/keys"), KeysApiJsonContext.Default.IReadOnlyListKeyView, ["ID"], k => [k.Id], "no keys");

        Assert.Equal(ExitCodes.Ok, code);
        using var printed = JsonDocument.Parse(_out.ToString());
        using var sent = JsonDocument.Parse(KeyList);
        Assert.True(JsonElement.DeepEquals(sent.RootElement, printed.RootElement), _out.ToString());
        Assert.Contains("\n  {", _out.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_json_a_list_is_an_aligned_table_and_an_empty_list_its_sentence()
    {
        _server.Answer(Keys, 200, KeyList);
        _server.Answer("GET /api/v1/keys?user=nobody", 200, "[]");
        using var call = Call();

        var code = call.Table(await call.GetAsync("api/v1/keys"), KeysApiJsonContext.Default.IReadOnlyListKeyView,
            ["ID", "USER", "NAME"], k => [k.Id, k.User, k.Name ?? "-"], "no keys");
        call.Table(await call.GetAsync("api/v1/keys?user=nobody"), KeysApiJsonContext.Default.IReadOnlyListKeyView,
            ["ID"], k => [k.Id], "no keys for nobody");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal(
            "ID  USER              NAME\n" +
            "k1  dana@example.org  laptop\n" +
            "k2  eli@example.org   -\n" +
            "no keys for nobody\n",
            _out.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task One_thing_is_one_sentence_without_json_and_the_document_with_it()
    {
        const string key = """{"id":"k1","user":"dana@example.org","name":null,"createdAt":"2026-03-01T09:30:00Z","expiresAt":null,"revokedAt":"2026-03-05T08:00:00Z","state":"revoked"}""";
        _server.Answer("DELETE /api/v1/keys/k1", 200, key);
        using (var call = Call())
        {
            call.ShowLine(await call.SendAsync(HttpMethod.Delete, "api/v1/keys/k1"), KeysApiJsonContext.Default.KeyView, k => $"revoked key {k.Id} of {k.User} (at {Output.Time(k.RevokedAt)})");
        }
        Assert.Equal("revoked key k1 of dana@example.org (at 2026-03-05 08:00Z)\n", _out.ToString().ReplaceLineEndings("\n"));

        _out.GetStringBuilder().Clear();
        using (var call = Call(json: true))
        {
            call.ShowLine(await call.SendAsync(HttpMethod.Delete, "api/v1/keys/k1"), KeysApiJsonContext.Default.KeyView, _ => "not printed with --json");
        }
        Assert.Equal("revoked", JsonDocument.Parse(_out.ToString()).RootElement.GetProperty("state").GetString());
        Assert.DoesNotContain("not printed", _out.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_verb_on_the_helper_prints_the_refusal_on_one_line_and_exits_1()
    {
        _server.Problem(Keys, 403, "Forbidden", "members see only their own keys");

        var result = await Cli.RunWithAsync(new Dictionary<string, string?> { ["PILOTAGE_SERVER"] = _server.Url, ["PILOTAGE_TOKEN"] = "plt_member" }, "keys", "list");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: members see only their own keys", result.ErrorLine());
        Assert.Equal("", result.Out);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
