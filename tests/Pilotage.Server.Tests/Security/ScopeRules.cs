using System.Net.Http.Json;
using System.Text;

namespace Pilotage.Server.Tests.Security;

/// <summary>How a route relates to one system's records, which says what an outsider and an insider get.</summary>
public enum Reach
{
    /// <summary>Reads one system's record: an outsider whose role passes the role matrix gets 404, exactly as for a record that does not exist; others 403; insiders 2xx.</summary>
    Read,
    /// <summary>Changes one system's record: as <see cref="Read"/> for outsiders; insiders are not called (the access matrix tests run the writes).</summary>
    Write,
    /// <summary>Lists records of several systems: everyone it lets through gets 2xx, and an outsider's list holds nothing of the other system.</summary>
    List,
    /// <summary>Not about one system's records (people, keys, the audit trail, specs by body): the role matrix alone, 2xx or 403.</summary>
    Account,
    /// <summary>Uses a system through the gateway: the serving policy's groups decide, and the gateway's contract answers 403 not_in_allowed_group.</summary>
    Use,
    /// <summary>Answers without signing in (health, metrics, the API reference, the sign-in page).</summary>
    Public,
    /// <summary>Tested elsewhere, for the reason given.</summary>
    Elsewhere,
}

/// <summary>How the route is reached: a bearer key (API, gateway), the dashboard's cookie, or nothing.</summary>
public enum Surface { Bearer, Cookie, Anonymous }

/// <param name="Route">The method (PAGE for a dashboard page) and the route pattern, as the server's endpoint data source names it.</param>
/// <param name="Roles">The roles let through: for reads and lists, who may read it on a system they have access to; for writes, who passes the role matrix.</param>
/// <param name="SeenBy">For a list: the roles of the other system (and admin, auditor) whose list must show it; default <paramref name="Roles"/>.</param>
/// <param name="AuditorWrites">The auditor may do this write (legal holds, training): not called with the auditor.</param>
/// <param name="RefusedTo">A page that sends the roles it does not let through to another page (the portfolio sends members to their own page) instead of answering 403.</param>
public sealed record ScopeRule(string Route, Reach Reach, string Roles, Surface Surface, Func<ScopeTarget, HttpRequestMessage>? Request,
    string? SeenBy = null, bool AuditorWrites = false, string? Why = null, string? RefusedTo = null)
{
    public bool Lets(string role) => Roles.Split(' ').Contains(role);

    /// <summary>Whether the response is this route's refusal of a role: 403, or the redirect the rule names.</summary>
    public bool IsRefusal(HttpResponseMessage response) => RefusedTo is null
        ? response.StatusCode == System.Net.HttpStatusCode.Forbidden
        : response.StatusCode == System.Net.HttpStatusCode.Redirect && response.Headers.Location?.OriginalString == RefusedTo;

    public bool Shows(string role) => (SeenBy ?? Roles).Split(' ').Contains(role);

    public override string ToString() => Route;
}

/// <summary>
/// The table: every route of the server with who may reach it. A route added without a row here fails
/// <c>ReadScopingTests.Every_route_of_the_server_has_a_rule</c>.
/// </summary>
public static class ScopeRules
{
    private const string All = "admin auditor owner reviewer member";
    private const string Staff = "admin auditor owner reviewer";
    private const string Writers = "admin owner";
    private const string Reviewers = "admin owner reviewer";
    private const string Posters = "admin owner reviewer member";
    private const string Readers = "admin auditor";

    public static readonly ScopeRule[] Rules =
    [
        // ---- control API: one system's records ---------------------------------------------------------
        Read("GET /api/v1/systems/{slug}", Staff, t => Get($"/api/v1/systems/{t.Slug}")),
        Read("GET /api/v1/systems/{slug}/decisions", Staff, t => Get($"/api/v1/systems/{t.Slug}/decisions")),
        Read("GET /api/v1/systems/{slug}/versions", Staff, t => Get($"/api/v1/systems/{t.Slug}/versions")),
        Read("GET /api/v1/systems/{slug}/metrics", Staff, t => Get($"/api/v1/systems/{t.Slug}/metrics")),
        Read("GET /api/v1/systems/{slug}/metrics/versions", Staff, t => Get($"/api/v1/systems/{t.Slug}/metrics/versions")),
        Read("GET /api/v1/systems/{slug}/report", Staff, t => Get($"/api/v1/systems/{t.Slug}/report?format=json")),
        Read("GET /api/v1/systems/{slug}/readiness", Staff, t => Get($"/api/v1/systems/{t.Slug}/readiness")),
        Read("GET /api/v1/systems/{slug}/evals", Staff, t => Get($"/api/v1/systems/{t.Slug}/evals")),
        Read("GET /api/v1/systems/{slug}/changes", Staff, t => Get($"/api/v1/systems/{t.Slug}/changes")),
        Read("GET /api/v1/systems/{slug}/attention", Staff, t => Get($"/api/v1/systems/{t.Slug}/attention")),
        Read("GET /api/v1/evals/{id:long}", Staff, t => Get($"/api/v1/evals/{t.EvalRun}")),
        Read("GET /api/v1/changes/{id:long}", Staff, t => Get($"/api/v1/changes/{t.Change}")),
        Read("GET /api/v1/interactions/{id}", Staff, t => Get($"/api/v1/interactions/{t.HeldId}")),
        // Its member filed it; the other system's member may not even see it.
        Read("GET /api/v1/incidents/{id:long}", All, t => Get($"/api/v1/incidents/{t.Incident}")),

        Write("POST /api/v1/systems/{slug}/decisions", Writers, t => Json("POST", $"/api/v1/systems/{t.Slug}/decisions", new { outcome = "stop", reason = "attack" })),
        Write("POST /api/v1/systems/{slug}/pause", Writers, t => Json("POST", $"/api/v1/systems/{t.Slug}/pause", new { reason = "attack" })),
        Write("POST /api/v1/systems/{slug}/resume", Writers, t => Json("POST", $"/api/v1/systems/{t.Slug}/resume", new { reason = "attack" })),
        Write("POST /api/v1/systems/{slug}/rollback", Writers, t => Json("POST", $"/api/v1/systems/{t.Slug}/rollback", new { toVersion = 1, reason = "attack" })),
        Write("PUT /api/v1/systems/{slug}/readiness/{questionId}", Writers, t => Json("PUT", $"/api/v1/systems/{t.Slug}/readiness/rollout.risky_tasks", new { answer = "attack" })),
        Write("POST /api/v1/systems/{slug}/evals", Writers, t => Json("POST", $"/api/v1/systems/{t.Slug}/evals", new { testSet = "attack", testSetHash = "abc", cases = 1 })),
        Write("POST /api/v1/systems/{slug}/import", Writers, t => new HttpRequestMessage(HttpMethod.Post, $"/api/v1/systems/{t.Slug}/import")
            { Content = new StringContent("prompt,answer,timestamp\nattack,attack,2026-03-01\n", Encoding.UTF8, "text/csv") }),
        Write("POST /api/v1/systems/{slug}/handover", Writers, t => Json("POST", $"/api/v1/systems/{t.Slug}/handover", new { to = ScopeWorld.Email("alpha-owner") })),
        Write("POST /api/v1/systems/{slug}/handover/accept", Writers, t => new HttpRequestMessage(HttpMethod.Post, $"/api/v1/systems/{t.Slug}/handover/accept")),
        Write("DELETE /api/v1/systems/{slug}/handover", Writers, t => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/systems/{t.Slug}/handover")),
        Write("POST /api/v1/systems/{slug}/purge", Writers, t => Json("POST", $"/api/v1/systems/{t.Slug}/purge", new { olderThanDays = 30 })),
        Write("POST /api/v1/systems/{slug}/hold", Readers, t => Json("POST", $"/api/v1/systems/{t.Slug}/hold", new { reason = "attack" }), auditorWrites: true),
        Write("POST /api/v1/systems/{slug}/hold/release", Readers, t => Json("POST", $"/api/v1/systems/{t.Slug}/hold/release", new { reason = "attack" }), auditorWrites: true),
        Write("POST /api/v1/evals/{id:long}/results", Writers, t => Json("POST", $"/api/v1/evals/{t.EvalRun}/results",
            new { results = new[] { new { caseId = "c1", category = "edge", verdict = "pass" } } })),
        Write("POST /api/v1/evals/{id:long}/finish", Writers, t => Json("POST", $"/api/v1/evals/{t.EvalRun}/finish", new { status = "completed" })),
        Write("POST /api/v1/changes/{id:long}/approve", Writers, t => Json("POST", $"/api/v1/changes/{t.Change}/approve", new { reason = "attack" })),
        Write("POST /api/v1/changes/{id:long}/reject", Writers, t => Json("POST", $"/api/v1/changes/{t.Change}/reject", new { reason = "attack" })),
        Write("POST /api/v1/changes/{id:long}/withdraw", Writers, t => Json("POST", $"/api/v1/changes/{t.Change}/withdraw", new { reason = "attack" })),
        Write("POST /api/v1/changes/{id:long}/apply", Writers, t => Json("POST", $"/api/v1/changes/{t.Change}/apply", new { reason = "attack" })),
        Write("POST /api/v1/approvals/{id}/release", Reviewers, t => Json("POST", $"/api/v1/approvals/{t.HeldId}/release", new { reason = "attack" })),
        Write("POST /api/v1/approvals/{id}/reject", Reviewers, t => Json("POST", $"/api/v1/approvals/{t.HeldId}/reject", new { reason = "attack" })),
        Write("POST /api/v1/reviews/{id}/open", Reviewers, t => Json("POST", $"/api/v1/reviews/{t.HeldId}/open", new { })),
        Write("POST /api/v1/interactions/{id}/review", Reviewers, t => Json("POST", $"/api/v1/interactions/{t.HeldId}/review", new { outcome = "accepted" })),
        // Anyone signed in passes the role matrix; the system decides (an incident can pause it).
        Write("POST /api/v1/incidents/", Posters, t => Json("POST", "/api/v1/incidents", new { system = t.Slug, kind = "incident", severity = "high", title = "attack" })),
        Write("PATCH /api/v1/incidents/{id:long}", Posters, t => Json("PATCH", $"/api/v1/incidents/{t.Incident}", new { status = "investigating" })),

        // ---- control API: lists over systems -------------------------------------------------------------
        List("GET /api/v1/systems/", Staff, _ => Get("/api/v1/systems")),
        List("GET /api/v1/changes/", Staff, _ => Get("/api/v1/changes")),
        List("GET /api/v1/approvals/", Reviewers, _ => Get("/api/v1/approvals")),
        List("GET /api/v1/reviews/", Reviewers, _ => Get("/api/v1/reviews?limit=500")),
        List("GET /api/v1/incidents/", All, _ => Get("/api/v1/incidents")),
        List("GET /api/v1/attention", Staff, _ => Get("/api/v1/attention")),

        // ---- control API: not about one system's records ---------------------------------------------------
        Account("GET /api/v1/me", All, Get("/api/v1/me")),
        Account("GET /api/v1/users/", Readers, Get("/api/v1/users")),
        Account("GET /api/v1/users/{email}", Readers, Get($"/api/v1/users/{ScopeWorld.Email("beta-member")}")),
        Account("POST /api/v1/users/", "admin", Json("POST", "/api/v1/users", new { email = "intruder@example.org", role = "admin" })),
        Account("PATCH /api/v1/users/{email}", "admin", Json("PATCH", $"/api/v1/users/{ScopeWorld.Email("beta-owner")}", new { active = false })),
        Account("GET /api/v1/groups/", "admin auditor owner", Get("/api/v1/groups")),
        Account("POST /api/v1/groups/", "admin", Json("POST", "/api/v1/groups", new { name = "intruders" })),
        Account("PUT /api/v1/groups/{name}/members/{email}", "admin", new HttpRequestMessage(HttpMethod.Put, $"/api/v1/groups/beta-reviewers/members/{ScopeWorld.Email("alpha-member")}")),
        Account("DELETE /api/v1/groups/{name}/members/{email}", "admin", new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/groups/beta-reviewers/members/{ScopeWorld.Email("beta-reviewer")}")),
        // A person's own keys; KeyDelegation's tests hold keys of others.
        Account("GET /api/v1/keys/", All, Get("/api/v1/keys")),
        Account("POST /api/v1/keys/", All, null),
        Account("DELETE /api/v1/keys/{id}", All, null),
        // Specs travel in the body; apply refuses a name owned by someone else (ReadScopingTests.An_owner_cannot_apply_over_another_owners_system).
        Account("POST /api/v1/systems/apply", Writers, null),
        Account("POST /api/v1/systems/diff", Writers, null),
        Account("GET /api/v1/audit/", Readers, Get("/api/v1/audit")),
        Account("GET /api/v1/audit/verify", Readers, Get("/api/v1/audit/verify")),
        Account("GET /api/v1/audit/export", Readers, Get("/api/v1/audit/export")),
        Account("POST /api/v1/audit/verify", Readers, Json("POST", "/api/v1/audit/verify", new { checkpoint = "forged\n1\nAAAA\n\n\u2014 forged AAAA\n" })),
        // Signing a checkpoint states what the log holds; it changes nothing else, so the readers may ask for one.
        Account("POST /api/v1/audit/checkpoints", Readers, Json("POST", "/api/v1/audit/checkpoints", new { })),
        Account("GET /api/v1/audit/checkpoints/latest", Readers, Get("/api/v1/audit/checkpoints/latest")),
        Account("GET /api/v1/audit/proofs/{sequence:long}", Readers, Get("/api/v1/audit/proofs/1")),
        Account("GET /api/v1/audit/public-key", Readers, Get("/api/v1/audit/public-key")),
        Account("GET /api/v1/webhooks/deliveries", Readers, Get("/api/v1/webhooks/deliveries")),

        // ---- gateway ----------------------------------------------------------------------------------------
        Use("POST /v1/chat/completions", t => Json("POST", "/v1/chat/completions", new { model = t.Slug, messages = new[] { new { role = "user", content = "hello" } } })),
        Use("POST /v1/embeddings", t => Json("POST", "/v1/embeddings", new { model = t.Slug, input = "hello" })),
        Use("POST /v1/responses", t => Json("POST", "/v1/responses", new { model = t.Slug, input = "hello" })),
        Use("POST /v1/messages", t => Json("POST", "/v1/messages", new { model = t.Slug, max_tokens = 16, messages = new[] { new { role = "user", content = "hello" } } })),
        // A stored response is its asker's (or readable by those who may read the system); another person's gets 404
        // (ResponsesApiTests.Raw_http_carries_the_interaction_header_and_a_stored_response_is_fetched_and_continued_by_its_asker_only).
        Account("GET /v1/responses/{id}", All, null),
        // Unknown gateway paths: a JSON 404 or 405 for anyone, naming nothing but the path.
        Account("ANY /v1/{**rest}", All, null),
        Use("POST /v1/manual-tasks", t => Json("POST", "/v1/manual-tasks", new { model = t.Slug, minutes = 3 })),
        new("GET /v1/models", Reach.List, All, Surface.Bearer, _ => Get("/v1/models"), SeenBy: "member"),
        // The training is for the people it serves at some stage and those who may read the system.
        new("GET /v1/training/{system}", Reach.Read, All, Surface.Bearer, t => Get($"/v1/training/{t.Slug}")),
        new("POST /v1/training/{system}/acknowledge", Reach.Write, All, Surface.Bearer, t => Json("POST", $"/v1/training/{t.Slug}/acknowledge", new { }), AuditorWrites: true),
        // Its member's key made it.
        new("GET /v1/interactions/{id}", Reach.Read, All, Surface.Bearer, t => Get($"/v1/interactions/{t.HeldId}")),
        new("POST /v1/interactions/{id}/review", Reach.Write, Posters, Surface.Bearer, t => Json("POST", $"/v1/interactions/{t.HeldId}/review", new { outcome = "accepted" })),
        new("POST /v1/interactions/{id}/feedback", Reach.Write, Posters, Surface.Bearer, t => Json("POST", $"/v1/interactions/{t.HeldId}/feedback", new { rating = 1 })),
        new("POST /v1/interactions/{id}/task", Reach.Write, Posters, Surface.Bearer, t => Json("POST", $"/v1/interactions/{t.HeldId}/task", new { minutes = 1 })),

        // ---- dashboard ----------------------------------------------------------------------------------------
        new("PAGE /dashboard", Reach.List, Staff, Surface.Cookie, _ => Get("/dashboard"), RefusedTo: "/dashboard/me"),
        new("PAGE /dashboard/systems/{slug}", Reach.Read, Staff, Surface.Cookie, t => Get($"/dashboard/systems/{t.Slug}")),
        new("PAGE /dashboard/systems/{slug}/report", Reach.Read, Staff, Surface.Cookie, t => Get($"/dashboard/systems/{t.Slug}/report")),
        new("PAGE /dashboard/reviews", Reach.List, Reviewers, Surface.Cookie, _ => Get("/dashboard/reviews")),
        new("PAGE /dashboard/incidents", Reach.List, All, Surface.Cookie, _ => Get("/dashboard/incidents")),
        new("PAGE /dashboard/incidents/{id:long}", Reach.Read, All, Surface.Cookie, t => Get($"/dashboard/incidents/{t.Incident}")),
        // A person's own page: their systems, requests and reviews (Dashboard/DashboardFirstHourTests holds a member to their own).
        new("PAGE /dashboard/me", Reach.Account, All, Surface.Cookie, _ => Get("/dashboard/me")),
        new("PAGE /dashboard/audit", Reach.Account, Readers, Surface.Cookie, _ => Get("/dashboard/audit")),
        new("PAGE /dashboard/sign-in", Reach.Public, All, Surface.Anonymous, _ => Get("/dashboard/sign-in")),
        new("PAGE /dashboard/sign-out", Reach.Elsewhere, All, Surface.Cookie, null, Why: "ends the session: Dashboard/DashboardSessionTests"),
        new("GET /", Reach.Public, All, Surface.Anonymous, _ => Get("/")),
        new("GET /dashboard/assets/{name}", Reach.Public, All, Surface.Anonymous, _ => Get("/dashboard/assets/dashboard.css")),

        // ---- SCIM: the provisioning client's token, never a person's key (Scim/ScimProvisioningTests refuses keys and no token) ----
        new("GET /scim/v2/Users/", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),
        new("GET /scim/v2/Users/{id}", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),
        new("POST /scim/v2/Users/", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),
        new("PUT /scim/v2/Users/{id}", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),
        new("PATCH /scim/v2/Users/{id}", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),
        new("DELETE /scim/v2/Users/{id}", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),
        new("GET /scim/v2/Groups/", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),
        new("GET /scim/v2/Groups/{id}", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),
        new("POST /scim/v2/Groups/", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),
        new("PUT /scim/v2/Groups/{id}", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),
        new("PATCH /scim/v2/Groups/{id}", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),
        new("DELETE /scim/v2/Groups/{id}", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),
        new("GET /scim/v2/ServiceProviderConfig", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),
        new("GET /scim/v2/ResourceTypes", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),
        new("GET /scim/v2/Schemas", Reach.Elsewhere, "", Surface.Anonymous, null, Why: "SCIM token only: Scim/ScimProvisioningTests"),

        // ---- no sign-in ----------------------------------------------------------------------------------------
        new("GET /healthz", Reach.Public, All, Surface.Anonymous, _ => Get("/healthz")),
        new("GET /readyz", Reach.Public, All, Surface.Anonymous, _ => Get("/readyz")),
        new("ANY /metrics", Reach.Public, All, Surface.Anonymous, _ => Get("/metrics")),
        new("GET /api", Reach.Public, All, Surface.Anonymous, _ => Get("/api")),
        new("GET /openapi/{documentName}.json", Reach.Public, All, Surface.Anonymous, _ => Get("/openapi/v1.json")),
    ];

    private static ScopeRule Read(string route, string roles, Func<ScopeTarget, HttpRequestMessage> request) => new(route, Reach.Read, roles, Surface.Bearer, request);

    private static ScopeRule Write(string route, string roles, Func<ScopeTarget, HttpRequestMessage> request, bool auditorWrites = false) =>
        new(route, Reach.Write, roles, Surface.Bearer, request, AuditorWrites: auditorWrites);

    private static ScopeRule List(string route, string roles, Func<ScopeTarget, HttpRequestMessage> request) => new(route, Reach.List, roles, Surface.Bearer, request);

    private static ScopeRule Account(string route, string roles, HttpRequestMessage? request) =>
        new(route, Reach.Account, roles, Surface.Bearer, request is null ? null : _ => Clone(request));

    private static ScopeRule Use(string route, Func<ScopeTarget, HttpRequestMessage> request) => new(route, Reach.Use, All, Surface.Bearer, request);

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path);

    private static HttpRequestMessage Json(string method, string path, object body) =>
        new(new HttpMethod(method), path) { Content = JsonContent.Create(body) };

    /// <summary>A request is sent once; the table keeps a template and hands out copies.</summary>
    private static HttpRequestMessage Clone(HttpRequestMessage template)
    {
        var copy = new HttpRequestMessage(template.Method, template.RequestUri);
        if (template.Content is JsonContent json) copy.Content = JsonContent.Create(json.Value, json.ObjectType);
        return copy;
    }
}
