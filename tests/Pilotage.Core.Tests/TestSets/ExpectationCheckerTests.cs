using Pilotage.Core.TestSets;

namespace Pilotage.Core.Tests.TestSets;

public class ExpectationCheckerTests
{
    private static CaseVerdict Check(Expectation expectation, string? answer, int? status = null, string? code = null) =>
        ExpectationChecker.Check(expectation, answer, status, code);

    private const string InvoiceSchema = """
        {"type":"object","required":["supplier","gross"],
         "properties":{"supplier":{"type":"string"},"gross":{"type":"number","minimum":0},"iban":{"type":["string","null"],"pattern":"^[A-Z]{2}[0-9]{2}"}}}
        """;

    [Fact]
    public void Contains_passes_when_every_text_appears_in_any_case()
    {
        var verdict = Check(new Expectation { Contains = ["Refund", "order"] }, "We have issued a REFUND for your ORDER.");
        Assert.Equal(CaseVerdictKind.Pass, verdict.Kind);
        Assert.Equal("contains all 2 texts", verdict.Reason);
    }

    [Fact]
    public void Contains_fails_naming_every_missing_text()
    {
        var verdict = Check(new Expectation { Contains = ["refund", "apology", "order"] }, "Your order ships tomorrow.");
        Assert.Equal(new CaseVerdict(CaseVerdictKind.Fail, "missing 'refund'; missing 'apology'"), verdict);
    }

    [Fact]
    public void Not_contains_passes_and_fails()
    {
        var expectation = new Expectation { NotContains = ["guarantee", "promise"] };
        Assert.Equal(CaseVerdictKind.Pass, Check(expectation, "We will look into it.").Kind);
        Assert.Equal(new CaseVerdict(CaseVerdictKind.Fail, "matched forbidden 'guarantee'"), Check(expectation, "We GUARANTEE delivery."));
    }

    [Fact]
    public void Every_failing_check_is_listed()
    {
        var expectation = new Expectation { Contains = ["refund"], NotContains = ["guarantee"], Regex = "^Dear" };
        var verdict = Check(expectation, "We guarantee it.");
        Assert.Equal("missing 'refund'; matched forbidden 'guarantee'; no match for /^Dear/", verdict.Reason);
    }

    [Fact]
    public void Regex_passes_and_fails()
    {
        var expectation = new Expectation { Regex = @"(?i)section \d+(\.\d+)*" };
        Assert.Equal(new CaseVerdict(CaseVerdictKind.Pass, @"matches /(?i)section \d+(\.\d+)*/"), Check(expectation, "See Section 4.2 of the travel policy."));
        Assert.Equal(CaseVerdictKind.Fail, Check(expectation, "See the travel policy.").Kind);
    }

    [Fact]
    public void A_regex_that_backtracks_badly_times_out_as_an_error()
    {
        var verdict = Check(new Expectation { Regex = "^(a+)+$" }, new string('a', 40) + "!");
        Assert.Equal(CaseVerdictKind.Error, verdict.Kind);
        Assert.Contains("timed out after 250 ms", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_regex_built_in_code_is_an_error_verdict_not_an_exception()
    {
        var verdict = Check(new Expectation { Regex = "(" }, "text");
        Assert.Equal(CaseVerdictKind.Error, verdict.Kind);
        Assert.StartsWith("invalid regex /(/", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_schema_passes_for_valid_json_even_in_a_code_fence()
    {
        var expectation = new Expectation { JsonSchema = InvoiceSchema };
        Assert.Equal(new CaseVerdict(CaseVerdictKind.Pass, "valid against the json_schema"),
            Check(expectation, """{"supplier":"Acme","gross":119.0,"iban":"DE89370400440532013000"}"""));
        Assert.Equal(CaseVerdictKind.Pass, Check(expectation, "```json\n{\"supplier\":\"Acme\",\"gross\":1,\"iban\":null}\n```").Kind);
    }

    [Fact]
    public void Json_schema_fails_for_text_that_is_not_json()
    {
        var verdict = Check(new Expectation { JsonSchema = InvoiceSchema }, "Here is the invoice: supplier Acme");
        Assert.Equal(CaseVerdictKind.Fail, verdict.Kind);
        Assert.StartsWith("not valid JSON: ", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_schema_fails_naming_where_the_json_is_wrong()
    {
        var verdict = Check(new Expectation { JsonSchema = InvoiceSchema }, """{"supplier":"Acme","gross":-5}""");
        Assert.Equal(CaseVerdictKind.Fail, verdict.Kind);
        Assert.StartsWith("does not match the json_schema: ", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("/gross", verdict.Reason, StringComparison.Ordinal);
        var missing = Check(new Expectation { JsonSchema = InvoiceSchema }, """{"gross":5}""");
        Assert.Contains("supplier", missing.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_schema_patterns_are_bounded_by_the_timeout()
    {
        var expectation = new Expectation { JsonSchema = """{"type":"object","properties":{"code":{"type":"string","pattern":"^(a+)+$"}}}""" };
        var verdict = Check(expectation, "{\"code\":\"" + new string('a', 40) + "!\"}");
        Assert.Equal(CaseVerdictKind.Error, verdict.Kind);
        Assert.Contains("timed out", verdict.Reason, StringComparison.Ordinal);
        var properties = new Expectation { JsonSchema = """{"type":"object","patternProperties":{"^(a+)+$":false}}""" };
        Assert.Equal(CaseVerdictKind.Error, Check(properties, "{\"" + new string('a', 40) + "!\":1}").Kind);
    }

    [Fact]
    public void Refuses_passes_on_a_refusal_phrase_and_fails_on_an_answer()
    {
        var expectation = new Expectation { Refuses = true };
        Assert.Equal(new CaseVerdict(CaseVerdictKind.Pass, "declined ('i can't')"), Check(expectation, "I can’t help with card numbers here."));
        var verdict = Check(expectation, "Sure! The card 4111 is now on file.");
        Assert.Equal(CaseVerdictKind.Fail, verdict.Kind);
        Assert.StartsWith("did not refuse", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_false_fails_when_the_system_declines()
    {
        var expectation = new Expectation { Refuses = false };
        Assert.Equal(CaseVerdictKind.Pass, Check(expectation, "Your refund is on its way.").Kind);
        Assert.Equal(new CaseVerdict(CaseVerdictKind.Fail, "refused ('unable to') where an answer was expected"), Check(expectation, "Unfortunately I am unable to answer."));
    }

    [Theory]
    [InlineData(422, "data_boundary_blocked", "refused by the gateway (422 data_boundary_blocked)")]
    [InlineData(422, "data_boundary_uninspectable", "refused by the gateway (422 data_boundary_uninspectable)")]
    [InlineData(403, "side_effect_blocked", "refused by the gateway (403 side_effect_blocked)")]
    [InlineData(422, null, "refused by the gateway (422)")]
    [InlineData(null, "data_boundary_blocked", "refused by the gateway (data_boundary_blocked)")]
    public void A_gateway_refusal_counts_as_a_refusal(int? status, string? code, string reason)
    {
        Assert.Equal(new CaseVerdict(CaseVerdictKind.Pass, reason), Check(new Expectation { Refuses = true }, null, status, code));
    }

    [Fact]
    public void A_gateway_refusal_fails_every_other_expectation_with_the_code_in_the_reason()
    {
        Expectation[] others =
        [
            new() { Contains = ["refund"] }, new() { NotContains = ["4111"] }, new() { Regex = "x" },
            new() { JsonSchema = "{}" }, new() { Refuses = false }, new() { Human = true },
        ];
        foreach (var expectation in others)
        {
            var verdict = Check(expectation, null, 422, "data_boundary_blocked");
            Assert.Equal(CaseVerdictKind.Fail, verdict.Kind);
            Assert.Contains("422 data_boundary_blocked", verdict.Reason, StringComparison.Ordinal);
        }
        var both = Check(new Expectation { Refuses = true, Contains = ["HR desk"] }, null, 422, "data_boundary_blocked");
        Assert.Equal(CaseVerdictKind.Fail, both.Kind);
        Assert.Contains("no answer for contains", both.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(401, "invalid_api_key")]
    [InlineData(403, "not_in_allowed_group")]
    [InlineData(403, "training_required")]
    [InlineData(423, "system_paused")]
    [InlineData(423, "pilot_expired")]
    [InlineData(429, "rate_limited")]
    [InlineData(502, "upstream_error")]
    [InlineData(504, null)]
    public void Other_gateway_failures_are_errors_not_verdicts(int status, string? code)
    {
        var verdict = Check(new Expectation { Refuses = true }, null, status, code);
        Assert.Equal(CaseVerdictKind.Error, verdict.Kind);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Human_needs_a_reviewer_after_the_automatic_checks_pass()
    {
        Assert.Equal(new CaseVerdict(CaseVerdictKind.NeedsHuman, "graded by a reviewer in the review queue"), Check(new Expectation { Human = true }, "anything"));
        var both = new Expectation { Human = true, Contains = ["refund"] };
        Assert.Equal(new CaseVerdict(CaseVerdictKind.NeedsHuman, "graded by a reviewer in the review queue (automatic checks passed: contains 'refund')"), Check(both, "a refund"));
        Assert.Equal(new CaseVerdict(CaseVerdictKind.Fail, "missing 'refund'"), Check(both, "no"));
    }

    [Fact]
    public void No_answer_is_an_error()
    {
        Assert.Equal(CaseVerdictKind.Error, Check(new Expectation { Contains = ["a"] }, null).Kind);
        Assert.Contains("held for approval", Check(new Expectation { Contains = ["a"] }, null, 202).Reason, StringComparison.Ordinal);
        Assert.Equal(CaseVerdictKind.Fail, Check(new Expectation { Contains = ["a"] }, "", 200).Kind);
    }

    [Fact]
    public void Expectations_read_from_a_file_check_like_built_ones()
    {
        var set = TestSetReader.Read("""
            {"prompt":"x","category":"edge","expect":{"json_schema":{"type":"object","required":["total"]},"not_contains":["sorry"]}}
            """, "a.jsonl").Set!;
        var expectation = set.Cases[0].Expect;
        Assert.Equal(CaseVerdictKind.Pass, Check(expectation, """{"total": 3}""").Kind);
        Assert.Equal(CaseVerdictKind.Fail, Check(expectation, """{"sum": 3}""").Kind);
    }

    [Fact]
    public void Verdict_renders_kind_and_reason() =>
        Assert.Equal("Fail: missing 'refund'", new CaseVerdict(CaseVerdictKind.Fail, "missing 'refund'").ToString());
}
