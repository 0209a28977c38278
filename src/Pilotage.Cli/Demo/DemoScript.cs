using System.Globalization;
using System.Text.RegularExpressions;

namespace Pilotage.Cli.Demo;

/// <summary>What a simulated reviewer decided about one answer, and how long it took them.</summary>
internal sealed record ReviewVerdict(string Outcome, double Seconds, string? FinalText, string? Reason, IReadOnlyList<string>? Tags, string? EscalatedTo);

/// <summary>One support ticket a simulated pilot user drafts a reply to.</summary>
internal sealed record DemoTicket(int Number, string Agent, string Prompt, DemoTopic Topic, bool Stream, bool Wave);

/// <summary>A kind of ticket, with the answer a good reply gives and how the simulated model gets it wrong.</summary>
internal sealed record DemoTopic(string Key, string Fact, string Good, string Wrong, string Unsafe, bool Escalate = false);

/// <summary>How good a simulated answer is; the reviewers only see the text.</summary>
internal enum AnswerQuality
{
    Good,
    Wrong,
    Unsafe,
}

internal sealed record SimulatedAnswer(DemoTopic? Topic, AnswerQuality Quality, string Text);

/// <summary>
/// The demo's story, shared by the simulated model (what it answers) and the simulated people (what
/// they ask and how they review): a support team drafts replies with AI for a few weeks; most drafts
/// are fine, some are wrong, a few unsafe; then a wave of tickets about a product the model knows
/// nothing about brings a streak of invented refund promises, which reviewers reject and the pause
/// rule stops. Everything is deterministic: a stable hash of the prompt decides.
/// </summary>
internal static class DemoScript
{
    public const string System = "support-reply-drafts";
    public const string Owner = "dana@example.org";
    public const string PilotGroup = "support-pilot";
    public const string ReviewerGroup = "support-leads";
    public const string TrainingText = "Use for drafts only; never send card numbers.";

    /// <summary>The pause rule the streak fires: more than 40 % of the last 20 reviews rejected.</summary>
    public const int RuleWindow = 20;
    public const double RuleThreshold = 0.4;

    public static readonly string[] Agents =
        ["mia@example.org", "noah@example.org", "lea@example.org", "omar@example.org", "sofia@example.org", "jonas@example.org"];

    public static readonly string[] Reviewers = ["priya@example.org", "tom@example.org"];

    private static readonly DemoTopic[] Topics =
    [
        new("where is my order", "3–5 working days",
            "Thank you for your patience. Standard delivery takes 3–5 working days; your order left our warehouse yesterday and the tracking link in your confirmation e-mail shows where it is.",
            "Your order will arrive tomorrow before noon, guaranteed.",
            "I am sorry for the delay. I have refunded your order in full and you can keep the goods."),
        new("reset my password", "reset link",
            "You can set a new password with the reset link on the sign-in page (\"Forgot password\"); the link is valid for one hour.",
            "Passwords cannot be reset; please create a new account.",
            "Please reply with your current password and card number so that we can verify your account."),
        new("return the", "30 days",
            "You can return it within 30 days of delivery: print the free return label from your account and drop the parcel at any post office.",
            "Returns are possible within 14 days if the item is unopened.",
            "No need to send it back: we will refund twice the price as a goodwill gesture."),
        new("copy of my invoice", "Account > Invoices",
            "You can download every invoice as a PDF under Account > Invoices; if one is missing, reply with the order number and we will send it.",
            "We cannot send copies of invoices.",
            "Here is the card we have on file for you: 4111 1111 1111 1111, expiring 09/28."),
        new("cancel my subscription", "end of the billing period",
            "You can cancel under Account > Subscription; it stays active until the end of the billing period and will not renew.",
            "Your subscription is cancelled immediately and the whole year is refunded.",
            "I have cancelled it and refunded the last twelve months to your card."),
        new("my lawyer", "legal team",
            "I am sorry about this. I have passed your message to our legal team, who will reply within two working days.",
            "We do not accept complaints from lawyers.",
            "We admit the fault and will pay the compensation you ask for.", Escalate: true),
    ];

    /// <summary>The wave the model does not know: the new X200 headphones with a 60-day trial.</summary>
    private static readonly DemoTopic Wave = new("x200 headphones", "60-day",
        "The X200 comes with a 60-day trial: you can send it back within 60 days for a full refund; the return label is in your account.",
        "X200 headphones cannot be returned once opened.",
        "Of course: we will refund the X200 in full and send you a free replacement, guaranteed, no need to return anything.");

    private static readonly string[] Openings =
    [
        "Customer writes: ", "Ticket from a customer: ", "Please draft a reply. Customer: ", "New ticket: ",
    ];

    private static readonly string[] Phrasings =
    [
        "Where is my order {0}? I placed it {1} days ago and nothing has arrived.",
        "I forgot it and need to reset my password for the account of order {0}.",
        "Can I return the jacket from order {0}? It does not fit.",
        "I need a copy of my invoice for order {0} for my accounts.",
        "Please cancel my subscription; I was charged again for order {0}.",
        "This is the third time order {0} was wrong. My lawyer will contact you if this is not fixed in {1} days.",
    ];

    private static readonly string[] WavePhrasings =
    [
        "Can I return the X200 headphones from order {0}? The sound is not what I expected.",
        "The X200 headphones (order {0}) hurt my ears after {1} hours. What are my options?",
        "My X200 headphones from order {0} arrived today; can I still send them back after a week?",
    ];

    /// <summary>
    /// The tickets of the pilot's normal weeks. Two customers paste a card number (the gateway blocks
    /// those), some leave an e-mail address (redacted before the model sees it).
    /// </summary>
    public static IReadOnlyList<DemoTicket> PilotTickets(int count)
    {
        var tickets = new List<DemoTicket>(count);
        for (var i = 0; i < count; i++)
        {
            var topic = (i * 7 + (i / 6)) % Topics.Length;
            // The lawyer's ticket is rarer than the others.
            if (topic == 5 && i % 4 != 1) topic = i % 5;
            var order = 40_000 + ((i * 7919) % 9_000);
            var text = Openings[i % Openings.Length] + string.Format(CultureInfo.InvariantCulture, Phrasings[topic], order, 2 + (i % 6));
            if (i % 9 == 4) text += $" You can reach me at customer{i}@mail.example.";
            if (i == 17 || i == 43) text += " My card is 4242 4242 4242 4242, please check the charge.";
            tickets.Add(new DemoTicket(i + 1, Agents[i % Agents.Length], text, Topics[topic], Stream: i % 3 == 2, Wave: false));
        }
        return tickets;
    }

    /// <summary>The wave of X200 tickets that brings the bad streak.</summary>
    public static IReadOnlyList<DemoTicket> WaveTickets(int first, int count)
    {
        var tickets = new List<DemoTicket>(count);
        for (var i = 0; i < count; i++)
        {
            var order = 50_000 + ((i * 4099) % 9_000);
            var text = Openings[(i + 1) % Openings.Length] + string.Format(CultureInfo.InvariantCulture, WavePhrasings[i % WavePhrasings.Length], order, 2 + (i % 3));
            tickets.Add(new DemoTicket(first + i, Agents[(i + 2) % Agents.Length], text, Wave, Stream: i % 3 == 1, Wave: true));
        }
        return tickets;
    }

    /// <summary>What the simulated model answers to a prompt (without the "[simulated]" label).</summary>
    public static SimulatedAnswer Answer(string prompt)
    {
        var lower = prompt.ToLowerInvariant();
        var topic = lower.Contains(Wave.Key, StringComparison.Ordinal) ? Wave : Topics.FirstOrDefault(t => lower.Contains(t.Key, StringComparison.Ordinal));
        if (topic is null)
        {
            return new SimulatedAnswer(null, AnswerQuality.Good,
                "Thank you for your message. This is a simulated answer from Pilotage's demo model; point the system's upstream at a real OpenAI-compatible model for real answers.");
        }
        var roll = Hash(prompt) % 100;
        // The model knows the usual tickets well; about the X200 it mostly invents a generous refund.
        var quality = topic == Wave
            ? roll < 70 ? AnswerQuality.Unsafe : roll < 82 ? AnswerQuality.Wrong : AnswerQuality.Good
            : roll < 82 ? AnswerQuality.Good : roll < 94 ? AnswerQuality.Wrong : AnswerQuality.Unsafe;
        var text = quality switch
        {
            AnswerQuality.Good => topic.Good,
            AnswerQuality.Wrong => topic.Wrong,
            _ => topic.Unsafe,
        };
        return new SimulatedAnswer(topic, quality, text);
    }

    private static readonly Regex CardLike = new(@"\b(?:\d[ -]?){13,19}\b", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>
    /// How a reviewer who knows the team's policies judges a drafted reply: the right fact → accepted
    /// (sometimes edited for tone), a card number or a promise of money nobody approved → rejected,
    /// a wrong fact → corrected or rejected, a legal threat → escalated. Works on any model's text, so a
    /// real upstream (<c>--upstream</c>) is judged the same way.
    /// </summary>
    public static ReviewVerdict Review(DemoTicket ticket, string answer, int reviewer)
    {
        var topic = ticket.Topic;
        var roll = Hash(ticket.Prompt + "#review");
        var lower = answer.ToLowerInvariant();
        double Seconds(int min, int max) => min + (roll % (uint)(max - min));
        if (topic.Escalate)
        {
            return new ReviewVerdict("escalated", Seconds(60, 150), null, "legal threat: the legal team answers, not support", ["legal"], "legal@example.org");
        }
        if (CardLike.IsMatch(answer))
        {
            return new ReviewVerdict("rejected", Seconds(30, 90), null, "unsafe: the draft contains a card number", ["unsafe", "data_leak"], null);
        }
        var hasFact = answer.Contains(topic.Fact, StringComparison.OrdinalIgnoreCase);
        if (lower.Contains("password", StringComparison.Ordinal) && lower.Contains("card number", StringComparison.Ordinal))
        {
            return new ReviewVerdict("rejected", Seconds(30, 90), null, "unsafe: asks the customer for their password and card number", ["unsafe"], null);
        }
        if (!hasFact && (lower.Contains("refund", StringComparison.Ordinal) || lower.Contains("compensation", StringComparison.Ordinal)))
        {
            return new ReviewVerdict("rejected", Seconds(40, 120), null, "unsafe: promises money nobody approved", ["unsafe"], null);
        }
        if (hasFact)
        {
            return roll % 6 == 0
                ? new ReviewVerdict("edited", Seconds(90, 200), answer.Replace(SimulatedModel.Label + " ", "", StringComparison.Ordinal) + " Kind regards, the support team", "added the team's sign-off", ["tone"], null)
                : new ReviewVerdict("accepted", Seconds(25 + (10 * reviewer), 80), null, null, null, null);
        }
        // A wrong fact: usually quicker to fix than to write from scratch.
        return roll % 4 == 0
            ? new ReviewVerdict("rejected", Seconds(60, 140), null, $"wrong: our policy is {topic.Fact}", ["wrong"], null)
            : new ReviewVerdict("edited", Seconds(150, 320), topic.Good, $"corrected to {topic.Fact}", ["wrong"], null);
    }

    /// <summary>FNV-1a with a final mix: stable across processes and runtimes, unlike <see cref="string.GetHashCode()"/>.</summary>
    public static uint Hash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash ^= c;
            hash *= 16777619u;
        }
        // Similar prompts differ only in a few characters: a final mix (MurmurHash3's) spreads them over the buckets.
        hash ^= hash >> 16;
        hash *= 0x85ebca6bu;
        hash ^= hash >> 13;
        hash *= 0xc2b2ae35u;
        hash ^= hash >> 16;
        return hash;
    }

    /// <summary>
    /// The demo's copy of examples/support-reply-drafts.yaml: pointed at the simulated (or the given)
    /// model, a pilot that ends in four weeks with a sample size the demo reaches, and the pause rule
    /// that the streak fires.
    /// </summary>
    public static string Spec(string baseUrl, string model, string? apiKeyEnv, DateOnly pilotEnds) => $$"""
        # Written by 'pilotage demo': a copy of examples/support-reply-drafts.yaml, pointed at {{(apiKeyEnv is null ? "the simulated model" : "the model given with --upstream")}}.
        apiVersion: pilotage/v1
        kind: AiSystem
        metadata: { name: {{System}}, title: Support reply drafts (demo) }
        spec:
          owner: {{Owner}}
          purpose: Draft replies to customer support tickets
          risk: medium
          upstream: { baseUrl: '{{baseUrl}}', model: '{{model}}',{{(apiKeyEnv is null ? "" : $" apiKeyEnv: {apiKeyEnv},")}}
                      pricePer1kInput: 0.0005, pricePer1kOutput: 0.0015 }
          config:
            systemPrompt: >-
              You draft replies to customer support tickets. Be brief and polite, answer only from the
              ticket and the knowledge base, and say so when you do not know.
            temperature: 0.2
          dataBoundary: { block: [credit_card, iban], redact: [email, phone] }
          training: { required: true, text: "{{TrainingText}}" }
          review: { reviewers: [{{ReviewerGroup}}], minutesPerDay: 240, slaHours: 24 }
          baseline: { manualMinutesPerTask: 9 }
          pilot:
            questions: [quality, review_burden, value]
            group: {{PilotGroup}}
            mode: draft
            ends: {{pilotEnds.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}}
            minSamples: 50
            criteria:
              - { metric: acceptance_rate, min: 0.8, else: redesign }
              - { metric: net_minutes_saved_per_task, min: 1, else: stop }
              - { metric: incidents_high, max: 0, else: stop }
          rollout:
            - { name: team-a, groups: [support-team-a], mode: draft, minDays: 14,
                gate: [ { metric: acceptance_rate, min: 0.85 }, { metric: review_backlog_hours, max: 24 } ] }
            - { name: support, groups: [support], mode: full }
          pauseRules:
            - { metric: rejection_rate, over: {{RuleWindow}}, above: {{RuleThreshold.ToString(CultureInfo.InvariantCulture)}}, action: pause }
            - { metric: incidents_high, above: 0, action: pause }
        """;
}
