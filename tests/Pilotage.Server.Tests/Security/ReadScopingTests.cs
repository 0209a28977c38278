using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// Every route of a real server, for people of one system against the records of another (the table is
/// <see cref="ScopeRules"/>): an owner, a reviewer and a member of <c>scope-alpha</c> ask for the records
/// of <c>scope-beta</c>. Where their role would let them through, the answer must be the one a record that
/// does not exist gets (404, the same words); where it would not, 403. The people of <c>scope-beta</c>,
/// the admin and the auditor get their records (2xx), and a list shows each person only their systems.
/// </summary>
public sealed class ReadScopingTests(ScopeWorld world) : IClassFixture<ScopeWorld>
{
    private ScopeTarget Beta => world.Targets[ScopeWorld.Beta];

    public static TheoryData<string> Routes() => [.. ScopeRules.Rules.Select(r => r.Route)];

    [Fact]
    public void Every_route_of_the_server_has_a_rule()
    {
        var source = world.Server.App.Services.GetRequiredService<EndpointDataSource>();
        var routes = source.Endpoints.OfType<RouteEndpoint>().SelectMany(KeysOf).ToHashSet(StringComparer.Ordinal);
        var table = ScopeRules.Rules.Select(r => r.Route).ToList();
        Assert.Equal(table.Count, table.Distinct(StringComparer.Ordinal).Count());
        var missing = routes.Except(table).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "routes without a rule in ScopeRules (say who may reach them): " + string.Join(", ", missing));
        var stale = table.Except(routes).ToList();
        Assert.True(stale.Count == 0, "rules for routes the server does not have: " + string.Join(", ", stale));
    }

    private static IEnumerable<string> KeysOf(RouteEndpoint endpoint)
    {
        var pattern = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
        if (endpoint.Metadata.GetMetadata<PageActionDescriptor>() is not null) return [$"PAGE {pattern}"];
        var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [];
        return methods.Count == 0 ? [$"ANY {pattern}"] : methods.Select(m => $"{m} {pattern}");
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Outsiders_get_what_a_missing_record_gets_and_insiders_get_theirs(string route)
    {
        var rule = ScopeRules.Rules.Single(r => r.Route == route);
        switch (rule.Reach)
        {
            case Reach.Read:
            case Reach.Write:
                await RefusesOutsidersAsync(rule);
                if (rule.Reach == Reach.Read) await ServesInsidersAsync(rule);
                break;
            case Reach.List:
                await ListsOnlyWhatEachMaySeeAsync(rule);
                break;
            case Reach.Account:
                await FollowsTheRoleMatrixAsync(rule);
                break;
            case Reach.Use:
                await ServesOnlyItsGroupsAsync(rule);
                break;
            case Reach.Public:
                using (var response = await SendAsync(rule, null, Beta))
                {
                    Assert.True(response.IsSuccessStatusCode, $"{route} without signing in: {(int)response.StatusCode}");
                }
                break;
            case Reach.Elsewhere:
                Assert.False(string.IsNullOrWhiteSpace(rule.Why), $"{route}: say where it is tested");
                break;
        }
    }

    /// <summary>Outsiders of every role, and the auditor for writes: 404 word for word like a missing record, or 403.</summary>
    private async Task RefusesOutsidersAsync(ScopeRule rule)
    {
        var callers = ScopeWorld.SideRoles.Select(role => (Person: $"alpha-{role}", Role: role)).ToList();
        if (rule.Reach == Reach.Write && !rule.AuditorWrites) callers.Add(("auditor", "auditor"));
        foreach (var (person, role) in callers)
        {
            using var response = await SendAsync(rule, person, Beta);
            var body = await response.Content.ReadAsStringAsync();
            if (rule.Lets(role) && role != "auditor")
            {
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{person} on {rule.Route} of scope-beta: expected 404, got {(int)response.StatusCode} {Cut(body)}");
                using var ghost = await SendAsync(rule, person, ScopeWorld.Ghost);
                var ghostBody = await ghost.Content.ReadAsStringAsync();
                Assert.Equal(HttpStatusCode.NotFound, ghost.StatusCode);
                // No hint: the refusal reads exactly like the answer about a record that does not exist.
                Assert.Equal(Shape(ghostBody, ScopeWorld.Ghost), Shape(body, Beta));
                Assert.DoesNotContain("beta-owner", body, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{person} on {rule.Route} of scope-beta: expected 403, got {(int)response.StatusCode} {Cut(body)}");
            }
        }
    }

    /// <summary>The people of the system with a role the rule lets through, the admin and the auditor: 2xx.</summary>
    private async Task ServesInsidersAsync(ScopeRule rule)
    {
        foreach (var (person, role) in Insiders())
        {
            using var response = await SendAsync(rule, person, Beta);
            var body = await response.Content.ReadAsStringAsync();
            if (rule.Lets(role))
            {
                Assert.True(response.IsSuccessStatusCode, $"{person} on {rule.Route} of scope-beta: expected 2xx, got {(int)response.StatusCode} {Cut(body)}");
            }
            else
            {
                Assert.True(rule.IsRefusal(response), $"{person} on {rule.Route}: expected 403 (role), got {(int)response.StatusCode} {Cut(body)}");
            }
        }
    }

    private async Task ListsOnlyWhatEachMaySeeAsync(ScopeRule rule)
    {
        var callers = ScopeWorld.SideRoles.Select(role => (Person: $"alpha-{role}", Role: role, Outsider: true))
            .Concat(Insiders().Select(c => (c.Person, c.Role, Outsider: false)));
        foreach (var (person, role, outsider) in callers)
        {
            using var response = await SendAsync(rule, person, Beta);
            var body = await response.Content.ReadAsStringAsync();
            if (!rule.Lets(role))
            {
                Assert.True(rule.IsRefusal(response), $"{person} on {rule.Route}: expected {rule.RefusedTo ?? "403"}, got {(int)response.StatusCode} {Cut(body)}");
                continue;
            }
            Assert.True(response.IsSuccessStatusCode, $"{person} on {rule.Route}: expected 2xx, got {(int)response.StatusCode} {Cut(body)}");
            if (outsider)
            {
                Assert.False(body.Contains(Beta.Slug, StringComparison.Ordinal), $"{person}'s {rule.Route} shows scope-beta: {Cut(body)}");
            }
            else if (rule.Shows(role))
            {
                Assert.True(body.Contains(Beta.Slug, StringComparison.Ordinal), $"{person}'s {rule.Route} should show scope-beta: {Cut(body)}");
            }
        }
    }

    private async Task FollowsTheRoleMatrixAsync(ScopeRule rule)
    {
        if (rule.Request is null) return;
        var write = rule.Request(Beta).Method != HttpMethod.Get;
        foreach (var (person, role) in Insiders().Concat(ScopeWorld.SideRoles.Select(r => ($"alpha-{r}", r))))
        {
            // A write the role may do would change the world the other rules run in: only refusals are sent.
            if (write && rule.Lets(role)) continue;
            using var response = await SendAsync(rule, person, Beta);
            var expected = rule.Lets(role) ? "2xx" : "403";
            Assert.True(rule.Lets(role) ? response.IsSuccessStatusCode : rule.IsRefusal(response),
                $"{person} on {rule.Route}: expected {expected}, got {(int)response.StatusCode}");
        }
    }

    /// <summary>The gateway serves a system's groups: the other system's people (whatever their role) are refused 403, its member is served.</summary>
    private async Task ServesOnlyItsGroupsAsync(ScopeRule rule)
    {
        foreach (var role in ScopeWorld.SideRoles)
        {
            using var refused = await SendAsync(rule, $"alpha-{role}", Beta);
            var body = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.Forbidden, $"alpha-{role} on {rule.Route} of scope-beta: expected 403, got {(int)refused.StatusCode} {Cut(body)}");
        }
        using var served = await SendAsync(rule, "beta-member", Beta);
        Assert.True(served.IsSuccessStatusCode, $"beta-member on {rule.Route}: {(int)served.StatusCode} {Cut(await served.Content.ReadAsStringAsync())}");
    }

    private static IEnumerable<(string Person, string Role)> Insiders() =>
        ScopeWorld.SideRoles.Select(role => ($"beta-{role}", role)).Append(("admin", "admin")).Append(("auditor", "auditor"));

    private async Task<HttpResponseMessage> SendAsync(ScopeRule rule, string? person, ScopeTarget target)
    {
        using var request = rule.Request!(target);
        var client = person is null || rule.Surface == Surface.Anonymous ? world.Server.Anonymous
            : rule.Surface == Surface.Cookie ? (await world.DashboardAsync(person)).Client
            : world.Api(person);
        return await client.SendAsync(request);
    }

    /// <summary>What a refusal says (problem details, the OpenAI error shape or a page), with the target's names and ids as placeholders, without trace ids.</summary>
    private static string Shape(string body, ScopeTarget target)
    {
        var text = body;
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            text = root.TryGetProperty("error", out var error)
                ? $"{error.GetProperty("code").GetString()}|{error.GetProperty("message").GetString()}"
                : $"{Field(root, "status")}|{Field(root, "title")}|{Field(root, "detail")}";
        }
        catch (JsonException)
        {
            // A page: its body is compared as it is.
        }
        text = Regex.Replace(text, $@"\b{Regex.Escape(target.Slug)}\b", "{SLUG}");
        foreach (var id in new[] { target.HeldId, $"{target.EvalRun}", $"{target.Change}", $"{target.Incident}" })
        {
            text = Regex.Replace(text, $@"\b{Regex.Escape(id)}\b", "{ID}");
        }
        return text;
    }

    private static string Field(JsonElement root, string name) => root.TryGetProperty(name, out var value) ? value.ToString() : "";

    private static string Cut(string body) => body.Length > 400 ? body[..400] + "…" : body;

    [Fact]
    public async Task An_owner_cannot_apply_over_another_owners_system_and_is_not_told_whose_it_is()
    {
        using var content = new StringContent(ScopeWorld.Spec(Beta.Slug, ScopeWorld.Alpha, world.Upstream.BaseUrl), System.Text.Encoding.UTF8, "application/yaml");
        using var response = await world.Api("alpha-owner").PostAsync("/api/v1/systems/apply", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("beta-owner", body, StringComparison.Ordinal);
        using var after = await world.Api("beta-owner").GetAsync($"/api/v1/systems/{Beta.Slug}");
        Assert.Contains(ScopeWorld.Email("beta-owner"), await after.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
