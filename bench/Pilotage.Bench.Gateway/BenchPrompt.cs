using System.Text.Json;

namespace Pilotage.Bench.Gateway;

/// <summary>
/// The chat completion every target is sent (<c>--prompt short|realistic</c>). The short one is a line of text; the
/// realistic one is a support conversation of about 2 KB, as a reply-drafting system gets it: a system prompt, the
/// customer's message with order numbers, dates, amounts, a version and an e-mail address (which a data boundary
/// redacts), and an earlier answer. Nothing in it is blocked, so every request goes through.
/// </summary>
internal static class BenchPrompt
{
    private const string Short = "Where is my parcel 42? It was due yesterday.";

    private const string Customer =
        "Hello, I am writing about order 55213 placed on 2026-11-18. The parcel was due on Tuesday but the tracking page " +
        "still says it is at the depot in Lyon. I paid 129.90 EUR including 19% VAT and chose express delivery for 9.95 EUR, " +
        "which I would like refunded if it does not arrive this week. Version 2.4.1 of your app shows the order as shipped, " +
        "but the link in the confirmation e-mail leads to an error page. I also ordered two replacement filters (item 7741) " +
        "in October and those arrived fine, so I know the address is right. Could you tell me what happened, when I can " +
        "expect it, and whether you can send a new parcel if this one is lost? You can write to me at dana.lee@example.org; " +
        "I am away from 3 to 7 December, so please answer before then if you can. I have been a customer for 6 years and " +
        "this is the first time something like this has happened. Thank you for your help.";

    private const string Earlier =
        "Thank you for getting in touch about your order. I have asked the carrier for an update and will write again " +
        "within 2 working days. In the meantime, the tracking page is updated every 4 hours.";

    public static byte[] Body(string prompt, string model)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("model", model);
            json.WriteStartArray("messages");
            if (prompt == "realistic")
            {
                Message(json, "system", "You draft polite, precise replies to customer support tickets for an online shop. Keep them under 150 words.");
                Message(json, "user", Customer);
                Message(json, "assistant", Earlier);
                Message(json, "user", "It still has not arrived. " + Customer);
            }
            else
            {
                Message(json, "user", Short);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return stream.ToArray();
    }

    private static void Message(Utf8JsonWriter json, string role, string content)
    {
        json.WriteStartObject();
        json.WriteString("role", role);
        json.WriteString("content", content);
        json.WriteEndObject();
    }

    /// <summary>For the report: what was sent.</summary>
    public static string Describe(string prompt) =>
        prompt == "realistic" ? $"realistic prompt ({Body(prompt, "bench-model").Length} bytes: system prompt, two customer messages with an e-mail address, an earlier answer)" : "short prompt (one line)";
}
