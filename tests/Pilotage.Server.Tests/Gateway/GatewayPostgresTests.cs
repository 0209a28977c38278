using System.Net;
using System.Net.Http.Json;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Gateway;

public sealed class GatewayPostgresTests
{
    [PostgresFact]
    public async Task On_PostgreSQL_answers_are_released_with_their_records_and_a_pause_holds()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var h = await GatewayHarness.StartAsync(mode: "full", database: database.ConnectionString);
        var ids = new List<string>();
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody($"question {i}"))));
        foreach (var response in responses)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            ids.Add(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        }
        foreach (var id in ids)
        {
            var record = await h.InteractionAsync(id);
            Assert.Equal("served", record.Outcome);
            Assert.Equal(0.12m, record.Cost);
        }
        (await h.Owner.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/pause", new { reason = "incident 7" })).EnsureSuccessStatusCode();
        Assert.Equal((HttpStatusCode)423, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
    }
}
