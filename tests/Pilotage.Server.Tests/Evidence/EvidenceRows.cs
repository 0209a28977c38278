using System.Reflection;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Tests.Evidence;

/// <summary>Interaction rows that exercise every column, including nulls, offsets and awkward text.</summary>
internal static class EvidenceRows
{
    private static readonly DateTimeOffset Base = new(2026, 11, 25, 10, 0, 0, 123, TimeSpan.Zero);

    public static InteractionRow Make(int i) => new()
    {
        Id = InteractionId.New(),
        // Some rows carry a non-UTC offset: they must read back as the same instant.
        CreatedAt = i % 4 == 0 ? Base.AddMilliseconds(i * 7).ToOffset(TimeSpan.FromHours(2)) : Base.AddMilliseconds(i * 7),
        System = "support-bot-" + (i % 3),
        Phase = i % 2 == 0 ? "pilot" : "production",
        Stage = i % 4,
        ConfigVersion = i,
        UserId = 1_000_000_000_000L + i,
        UserEmail = $"user{i}@example.org",
        KeyId = "key_" + i,
        Groups = "[\"support\",\"émea\"]",
        Endpoint = i % 2 == 0 ? "chat" : "embeddings",
        Mode = "live",
        Outcome = i % 5 == 0 ? "refused" : "served",
        RefusalCode = i % 5 == 0 ? "paused" : null,
        RefusalReason = i % 5 == 0 ? "system paused by ops: 'incident' \"42\"" : null,
        DetectorHits = i % 7 == 0 ? "{\"email\":{\"count\":2,\"action\":\"mask\"}}" : null,
        Streamed = i % 2 == 1,
        TokensIn = i,
        TokensOut = int.MaxValue - i,
        Cost = 0.00012345m * i + 0.00000001m + (i % 3 == 0 ? 1234567890.5m : 0m),
        FirstByteMs = i % 3 == 0 ? null : 12.5 + i,
        TotalMs = 100.25 + i,
        UpstreamStatus = i % 5 == 0 ? null : 200,
        RequestHash = "sha256:" + new string('a', 64),
        ResponseHash = i % 5 == 0 ? null : "sha256:" + new string('b', 64),
        RequestContent = i % 2 == 0 ? "{\"messages\":[{\"content\":\"héllo ✓ 🚀\"}]}" : null,
        ResponseContent = i % 2 == 0 ? "line1\nline2\tend" : null,
        Error = i % 11 == 0 ? "upstream timed out" : null,
    };

    /// <summary>Every property equal (DateTimeOffset by instant, decimal by value).</summary>
    public static void AssertSame(InteractionRow expected, InteractionRow actual)
    {
        foreach (var property in typeof(InteractionRow).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var e = property.GetValue(expected);
            var a = property.GetValue(actual);
            Assert.True(Equals(e, a), $"{expected.Id}.{property.Name}: wrote '{e}', read back '{a}'");
        }
    }
}
