using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Import;

/// <summary>What the import tests share: a system to import into, a posted file, and the metrics as one comparable text.</summary>
internal static class ImportTestSupport
{
    public static async Task SystemAsync(PilotageTestServer server, string slug) => await server.ApplyAsync($"""
        apiVersion: pilotage/v1
        kind: AiSystem
        metadata:
          name: {slug}
        spec:
          owner: owner@example.org
          purpose: Import test system
          risk: low
          upstream:
            baseUrl: http://127.0.0.1:9/v1
            model: test-model
        """);

    /// <summary>Posts <paramref name="header"/> and <paramref name="lines"/> as a CSV file; asserts 200 and gives the answer.</summary>
    public static async Task<JsonElement> ImportAsync(PilotageTestServer server, string slug, string header, IEnumerable<string> lines)
    {
        using var content = new StringContent(header + "\n" + string.Join("\n", lines) + "\n", Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        using var response = await server.Admin.PostAsync($"/api/v1/systems/{slug}/import", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>
    /// The figures without anything that moves with the clock, numbers to 12 significant digits: sums of fractions
    /// (rework) added in another order differ in their last bit.
    /// </summary>
    public static async Task<string> MetricsAsync(PilotageTestServer server, string slug)
    {
        var metrics = (await server.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{slug}/metrics")).GetProperty("metrics");
        return string.Join(";", metrics.EnumerateObject().Where(p => !p.Name.StartsWith("review_backlog", StringComparison.Ordinal)).Select(p => $"{p.Name}={Rounded(p.Value)}"));
    }

    private static string Rounded(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "{" + string.Join(",", value.EnumerateObject().Select(p => $"{p.Name}:{Rounded(p.Value)}")) + "}",
        JsonValueKind.Array => "[" + string.Join(",", value.EnumerateArray().Select(Rounded)) + "]",
        JsonValueKind.Number => value.GetDouble().ToString("G12", CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
