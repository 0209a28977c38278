using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

public class DataBoundaryPolicyTests
{
    private const string Card = "4111 1111 1111 1111";
    private const string Email = "dana@example.org";
    private const string Phone = "+44 20 7946 0958";

    private static readonly CustomDetectorSpec EmployeeId = new() { Name = "employee_id", Pattern = @"EMP-\d{6}" };

    private static DataBoundaryPolicy Policy(string[]? block = null, string[]? redact = null, params CustomDetectorSpec[] custom) =>
        DataBoundaryPolicy.From(new DataBoundarySpec { Block = block ?? [], Redact = redact ?? [], Detectors = custom });

    [Fact]
    public void A_spec_without_detectors_gets_the_empty_policy_and_the_same_string_back()
    {
        var policy = Policy(custom: EmployeeId); // declared but neither blocked nor redacted
        Assert.Same(DataBoundaryPolicy.None, policy);
        var text = $"{Card} {Email} EMP-123456";
        var result = policy.Apply(text);
        Assert.Same(text, result.Text);
        Assert.True(result.IsClean);
        Assert.False(result.Blocked);
        Assert.Empty(result.Counts);
    }

    [Fact]
    public void A_clean_text_comes_back_as_the_same_instance()
    {
        var policy = Policy(block: ["credit_card", "iban"], redact: ["email", "phone"], custom: EmployeeId);
        var text = "Please summarise ticket 4711 from 2026-11-25 about the refund of 19.99 EUR.";
        var result = policy.Apply(text);
        Assert.Same(text, result.Text);
        Assert.True(result.IsClean);
        Assert.Equal("clean", result.ToString());
    }

    [Fact]
    public void Redacted_hits_get_typed_placeholders_and_counts()
    {
        var policy = Policy(redact: ["email", "phone", "employee_id"], custom: EmployeeId);
        var result = policy.Apply($"Ask {Email} or b@example.com, call {Phone}, re EMP-004211.");

        Assert.False(result.Blocked);
        Assert.Empty(result.BlockedBy);
        Assert.Equal("Ask [REDACTED:email] or [REDACTED:email], call [REDACTED:phone], re [REDACTED:employee_id].", result.Text);
        Assert.Equal(
            [new DetectorCount("email", BoundaryAction.Redact, 2), new DetectorCount("employee_id", BoundaryAction.Redact, 1),
             new DetectorCount("phone", BoundaryAction.Redact, 1)],
            result.Counts);
        Assert.Equal([4, 24, 44, 65], result.Hits.Select(h => h.Start));
    }

    [Fact]
    public void A_blocking_hit_blocks_and_is_still_redacted_in_the_text()
    {
        var policy = Policy(block: ["credit_card"], redact: ["email"]);
        var result = policy.Apply($"card {Card}, mail {Email}");

        Assert.True(result.Blocked);
        Assert.Equal(["credit_card"], result.BlockedBy);
        // The text may be recorded as evidence of the refusal: it must not keep the card either.
        Assert.Equal("card [REDACTED:credit_card], mail [REDACTED:email]", result.Text);
        Assert.Equal(BoundaryAction.Block, result.Hits[0].Action);
        Assert.Equal(BoundaryAction.Redact, result.Hits[1].Action);
    }

    [Fact]
    public void A_detector_in_both_lists_blocks()
    {
        var result = Policy(block: ["email"], redact: ["email"]).Apply($"mail {Email}");
        Assert.True(result.Blocked);
        Assert.Equal([new DetectorCount("email", BoundaryAction.Block, 1)], result.Counts);
    }

    [Fact]
    public void A_custom_detector_can_block()
    {
        var policy = Policy(block: ["employee_id"], custom: EmployeeId);
        Assert.True(policy.Apply("about EMP-123456").Blocked);
        Assert.False(policy.Apply("about EMP-12345 and emp-123456").Blocked);
    }

    [Fact]
    public void Cards_and_ibans_are_not_reported_again_as_phones()
    {
        var policy = Policy(block: ["phone"], redact: ["credit_card", "iban"]);
        var result = policy.Apply($"card {Card} iban DE89 3704 0044 0532 0130 00 tel {Phone}");

        Assert.Equal(["credit_card", "iban", "phone"], result.Hits.Select(h => h.Detector));
        Assert.Equal("card [REDACTED:credit_card] iban [REDACTED:iban] tel [REDACTED:phone]", result.Text);
    }

    [Fact]
    public void An_iban_wins_over_a_card_number_found_inside_it()
    {
        // 89 3704 0044 0532 0130 00 holds Luhn-valid windows; the IBAN starts earlier and is longer.
        var policy = Policy(redact: ["credit_card", "iban"]);
        var result = policy.Apply("DE89 3704 0044 0532 0130 00");
        Assert.Equal([new DetectorCount("iban", BoundaryAction.Redact, 1)], result.Counts);
        Assert.Equal("[REDACTED:iban]", result.Text);
    }

    [Fact]
    public void A_blocking_hit_is_never_hidden_by_an_overlapping_redaction()
    {
        var codename = new CustomDetectorSpec { Name = "codename", Pattern = "Nightjar" };
        var policy = Policy(block: ["codename"], redact: ["email"], custom: codename);
        var result = policy.Apply("write to Nightjar-team@example.org");
        Assert.True(result.Blocked);
        Assert.Equal(["codename"], result.BlockedBy);
    }

    [Fact]
    public void Printing_a_result_never_shows_the_matched_value()
    {
        var policy = Policy(block: ["credit_card"], redact: ["email", "phone", "employee_id"], custom: EmployeeId);
        var result = policy.Apply($"{Card} {Email} {Phone} EMP-123456");

        var printed = string.Join("\n", new object[] { result, policy }.Concat(result.Hits.Cast<object>()).Concat(result.Counts.Cast<object>()));
        foreach (var secret in new[] { Card, "4111", Email, "dana", "7946", "123456" })
        {
            Assert.DoesNotContain(secret, printed, StringComparison.Ordinal);
        }
        Assert.Contains("credit_card block x1", result.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_pathological_custom_pattern_times_out_and_fails_closed()
    {
        // The look-ahead keeps it on the backtracking engine, where it is exponential in the run of 'a's: it always
        // reaches its timeout, however fast the machine.
        var evil = new CustomDetectorSpec { Name = "evil", Pattern = "(a+)+(?=b)" };
        var policy = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = ["evil", "email"], Detectors = [evil] },
            TimeSpan.FromMilliseconds(20));
        var text = new string('a', 5_000) + "! and " + Email;

        var result = policy.Apply(text);

        Assert.True(policy.HasTimedPatterns);
        Assert.True(result.Blocked, "a detector that cannot finish must not let the text through");
        Assert.Equal(["evil"], result.BlockedBy);
        var timeout = Assert.Single(result.Hits, h => h.Detector == "evil");
        Assert.Equal(BoundaryAction.Block, timeout.Action);
        Assert.Contains("timed out", timeout.Note, StringComparison.Ordinal);
        Assert.Contains("[REDACTED:email]", result.Text, StringComparison.Ordinal); // other detectors still ran
    }

    [Fact]
    public void The_classic_catastrophic_pattern_runs_on_the_linear_engine_whatever_its_timeout()
    {
        // On the backtracking engine "(a+)+$" is exponential in a run of 'a's not at the end. Here it runs with a
        // one-tick timeout, which any backtracking scan would exceed at once: the result can only be right, and not a
        // refusal, because the pattern runs on the linear engine, which has no timeout at all.
        var spec = new DataBoundarySpec { Redact = ["runs"], Detectors = [new CustomDetectorSpec { Name = "runs", Pattern = "(a+)+$" }] };
        var policy = DataBoundaryPolicy.From(spec, TimeSpan.FromTicks(1));
        var text = new string('a', 100_000) + "! then aaa";

        var result = policy.Apply(text, new BoundaryBudget(TimeSpan.FromTicks(1)));

        Assert.False(policy.HasTimedPatterns);
        Assert.False(result.Blocked);
        Assert.Equal(new string('a', 100_000) + "! then [REDACTED:runs]", result.Text);
    }

    [Fact]
    public void Unknown_detector_names_are_refused_at_build_time() =>
        Assert.Throws<ArgumentException>(() => Policy(block: ["passport"]));

    [Fact]
    public void The_policy_is_shared_safely_between_threads()
    {
        var policy = Policy(block: ["credit_card"], redact: ["email", "phone"]);
        var texts = Enumerable.Range(0, 200).Select(i => $"n{i} {Email} {Phone} {(i % 2 == 0 ? Card : "none")}").ToArray();
        var blocked = new bool[texts.Length];
        var redacted = new string[texts.Length];
        Parallel.For(0, texts.Length, i =>
        {
            var result = policy.Apply(texts[i]);
            blocked[i] = result.Blocked;
            redacted[i] = result.Text;
        });
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(i % 2 == 0, blocked[i]);
            Assert.StartsWith($"n{i} [REDACTED:email] [REDACTED:phone] ", redacted[i], StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Large_clean_texts_come_back_untouched()
    {
        // How fast is measured in bench/Pilotage.Bench.Boundary, not here: a unit test's time depends on the machine.
        var policy = Policy(block: ["credit_card", "iban"], redact: ["email", "phone"]);
        var text = string.Concat(Enumerable.Repeat("The quarterly review of 2026 covers 12 regions and 340 stores. ", 4_000));
        var result = policy.Apply(text);
        Assert.Same(text, result.Text);
        Assert.True(result.IsClean);
    }

    [Fact]
    public void The_empty_policy_allocates_nothing()
    {
        var text = "Ticket 4711, call +44 20 7946 0958";
        DataBoundaryPolicy.None.Apply(text);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = DataBoundaryPolicy.None.Apply(text);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Same(text, result.Text);
    }
}
