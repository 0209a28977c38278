using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests;

/// <summary>Every kind of problem is reported once, with its field path, line, column and a fixable message.</summary>
public class SpecReaderErrorTests
{
    private static SpecError Single(string yaml)
    {
        var result = SpecReader.Read(yaml, "demo.yaml");
        Assert.False(result.Ok);
        Assert.Empty(result.Specs);
        var error = Assert.Single(result.Errors);
        Assert.Equal("demo.yaml", error.Source);
        return error;
    }

    private static void AssertError(string yaml, string path, int line, int column, string fragment)
    {
        var error = Single(yaml);
        Assert.Equal(path, error.Path);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        Assert.Equal((line, column), (error.Line, error.Column));
    }

    [Fact]
    public void Minimal_spec_reads_with_defaults()
    {
        var result = SpecReader.Read(SpecYaml.Minimal, "demo.yaml");
        Assert.Empty(result.Errors);
        var spec = Assert.Single(result.Specs);
        Assert.Equal("demo-system", spec.Name);
        Assert.Equal("dana@example.org", spec.Owner);
        Assert.Equal(RiskTier.Medium, spec.Risk);
        Assert.Equal("llama3.1", spec.Upstream.Model);
        Assert.Null(spec.Pilot);
        Assert.Empty(spec.Rollout);
    }

    // Problems in text appended to the minimal spec (line 11 onwards, inside `spec:` or `upstream:`).
    [Theory]
    // wrong types
    [InlineData("  config:\n    temperature: warm", "spec.config.temperature", 12, 18, "expected a number, found 'warm'")]
    [InlineData("  config:\n    temperature: \"0.2\"", "spec.config.temperature", 12, 18, "expected a number, found the text \"0.2\"")]
    [InlineData("  config:\n    temperature: [1]", "spec.config.temperature", 12, 18, "expected a number, found a list")]
    [InlineData("  config: { maxTokens: 1.5 }", "spec.config.maxTokens", 11, 24, "expected a whole number, found '1.5'")]
    [InlineData("  config: [1, 2]", "spec.config", 11, 11, "expected a mapping (key: value pairs), found a list")]
    [InlineData("  rollout: { name: a }", "spec.rollout", 11, 12, "expected a list, found a mapping")]
    [InlineData("  training: { required: yes, text: x }", "spec.training.required", 11, 25, "expected true or false, found 'yes'")]
    [InlineData("  pilot: { group: g, ends: next-friday }", "spec.pilot.ends", 11, 28, "expected a date as YYYY-MM-DD or an end relative to the day of apply such as +90d, found 'next-friday'")]
    [InlineData("  pilot: { group: g, ends: 2026-02-30 }", "spec.pilot.ends", 11, 28, "expected a date as YYYY-MM-DD or an end relative to the day of apply such as +90d, found '2026-02-30'")]
    [InlineData("  review: { reviewers: support }", "spec.review.reviewers", 11, 24, "expected a list, found 'support'")]
    [InlineData("  review: { reviewers: [[a]] }", "spec.review.reviewers[0]", 11, 25, "expected text, found a list")]
    // unknown and duplicate fields
    [InlineData("  colour: blue", "spec.colour", 11, 3, "unknown field 'colour' (allowed here: owner, purpose, risk,")]
    [InlineData("  pauseRule: []", "spec.pauseRule", 11, 3, "unknown field 'pauseRule' (did you mean pauseRules?)")]
    [InlineData("    baseURL: http://x", "spec.upstream.baseURL", 11, 5, "unknown field 'baseURL' (did you mean baseUrl?)")]
    [InlineData("  owner: erin@example.org", "spec.owner", 11, 3, "duplicate key 'owner' (first at line 6)")]
    // ranges
    [InlineData("  config:\n    temperature: 3", "spec.config.temperature", 12, 18, "temperature must be between 0 and 2, found 3")]
    [InlineData("  config: { topP: 1.5 }", "spec.config.topP", 11, 19, "topP must be between 0 and 1, found 1.5")]
    [InlineData("  config: { maxTokens: 0 }", "spec.config.maxTokens", 11, 24, "maxTokens must be 1 or more, found 0")]
    [InlineData("    pricePer1kInput: -1", "spec.upstream.pricePer1kInput", 11, 22, "pricePer1kInput must be 0 or more, found -1")]
    [InlineData("    apiKeyEnv: sk-12345", "spec.upstream.apiKeyEnv", 11, 16, "never put the key itself in a spec")]
    [InlineData("  review: { slaHours: 0 }", "spec.review.slaHours", 11, 23, "slaHours must be more than 0, found 0")]
    [InlineData("  review: { minutesPerDay: -1 }", "spec.review.minutesPerDay", 11, 28, "minutesPerDay must be 0 or more, found -1")]
    [InlineData("  review: { hourlyRate: -3.5 }", "spec.review.hourlyRate", 11, 25, "hourlyRate must be 0 or more, found -3.5")]
    [InlineData("  baseline: { manualMinutesPerTask: -2 }", "spec.baseline.manualMinutesPerTask", 11, 37, "manualMinutesPerTask must be 0 or more, found -2")]
    [InlineData("  pilot: { group: g, ends: 2026-12-31, minSamples: -5 }", "spec.pilot.minSamples", 11, 52, "minSamples must be 0 or more, found -5")]
    // enums
    [InlineData("  risk: severe", "spec.risk", 11, 9, "invalid value 'severe': allowed values are low, medium, high")]
    [InlineData("  pilot: { group: g, ends: 2026-12-31, mode: auto }", "spec.pilot.mode", 11, 46, "invalid value 'auto': allowed values are full, draft, approval, read_only, shadow")]
    [InlineData("  pilot: { group: g, ends: 2026-12-31, questions: [quality, speed] }", "spec.pilot.questions[1]", 11, 61, "invalid value 'speed': allowed values are value, quality, workflow_fit, adoption, data_readiness, review_burden, risk, cost, support_needs")]
    // required fields in sections
    [InlineData("  pilot: { group: g }", "spec.pilot.ends", 11, 10, "missing required field 'ends'")]
    [InlineData("  pilot: { ends: 2026-12-31 }", "spec.pilot.group", 11, 10, "missing required field 'group'")]
    [InlineData("  training: { required: true }", "spec.training.text", 11, 13, "missing required field 'text'")]
    [InlineData("  dataBoundary: { detectors: [ { name: ticket } ] }", "spec.dataBoundary.detectors[0].pattern", 11, 32, "missing required field 'pattern'")]
    public void Appended_problem_is_reported_with_path_and_position(string extra, string path, int line, int column, string fragment) =>
        AssertError(SpecYaml.With(extra), path, line, column, fragment);

    private const string Pilot = "  pilot:\n    group: g\n    ends: 2026-12-31\n    criteria:\n";

    // Criteria: the pilot's list starts at line 15.
    [Theory]
    [InlineData("      - { metric: acceptance_rate, min: 0.8 }", "spec.pilot.criteria[0].else", 15, 9, "missing required field 'else': name the outcome when this criterion fails (proceed, narrow, repilot, redesign, stop)")]
    [InlineData("      - { metric: acceptence_rate, min: 0.8, else: stop }", "spec.pilot.criteria[0].metric", 15, 19, "unknown metric 'acceptence_rate' (did you mean acceptance_rate?)")]
    [InlineData("      - { metric: happiness, min: 0.8, else: stop }", "spec.pilot.criteria[0].metric", 15, 19, "unknown metric 'happiness' (see the metric catalogue")]
    [InlineData("      - { min: 0.8, else: stop }", "spec.pilot.criteria[0].metric", 15, 9, "missing required field 'metric'")]
    [InlineData("      - { metric: incidents_high, else: stop }", "spec.pilot.criteria[0]", 15, 9, "a criterion needs min or max (or both)")]
    [InlineData("      - { metric: acceptance_rate, min: 80, else: stop }", "spec.pilot.criteria[0].min", 15, 41, "acceptance_rate is a rate between 0 and 1, found 80 (write 0.8 for 80 %)")]
    [InlineData("      - { metric: rework, min: 0.5, max: 0.2, else: stop }", "spec.pilot.criteria[0].min", 15, 32, "min (0.5) is greater than max (0.2)")]
    [InlineData("      - { metric: incidents_high, max: 0, else: maybe }", "spec.pilot.criteria[0].else", 15, 49, "invalid value 'maybe': allowed values are proceed, narrow, repilot, redesign, stop")]
    [InlineData("      - { metric: adoption, min: 0.2, else: narrow, confidence: high }", "spec.pilot.criteria[0].confidence", 15, 65, "invalid value 'high': allowed values are point, lower, upper")]
    [InlineData("      - { metric: adoption, min: 0.2, else: narrow, reason: x }", "spec.pilot.criteria[0].reason", 15, 53, "unknown field 'reason'")]
    [InlineData("      - acceptance_rate > 0.8", "spec.pilot.criteria[0]", 15, 9, "expected a mapping (key: value pairs), found 'acceptance_rate > 0.8'")]
    public void Criterion_problem_is_reported(string criterion, string path, int line, int column, string fragment) =>
        AssertError(SpecYaml.With(Pilot + criterion), path, line, column, fragment);

    [Fact]
    public void Second_criterion_is_located_by_index_and_line()
    {
        var yaml = SpecYaml.With(Pilot
            + "      - { metric: acceptance_rate, min: 0.8, else: redesign }\n"
            + "      - { metric: acceptence_rate, min: 0.8, else: redesign }");
        AssertError(yaml, "spec.pilot.criteria[1].metric", 16, 19, "unknown metric 'acceptence_rate' (did you mean acceptance_rate?)");
    }

    // Rollout stages start at line 12.
    [Theory]
    [InlineData("    - { name: a, groups: [g] }\n    - { name: a, groups: [h] }", "spec.rollout[1].name", 13, 15, "duplicate stage name 'a' (first at line 12)")]
    [InlineData("    - { name: a }", "spec.rollout[0].groups", 12, 7, "missing required field 'groups'")]
    [InlineData("    - { name: a, groups: [] }", "spec.rollout[0].groups", 12, 26, "at least one group; the list is empty")]
    [InlineData("    - { groups: [g] }", "spec.rollout[0].name", 12, 7, "missing required field 'name'")]
    [InlineData("    - { name: a, groups: [g], minDays: -1 }", "spec.rollout[0].minDays", 12, 40, "minDays must be 0 or more, found -1")]
    [InlineData("    - { name: a, groups: [g], minSamples: ten }", "spec.rollout[0].minSamples", 12, 43, "expected a whole number, found 'ten'")]
    [InlineData("    - { name: a, groups: [g], mode: fast }", "spec.rollout[0].mode", 12, 37, "invalid value 'fast'")]
    [InlineData("    - { name: a, groups: [g], gate: [ { metric: backlog, max: 3 } ] }", "spec.rollout[0].gate[0].metric", 12, 49, "unknown metric 'backlog'")]
    public void Stage_problem_is_reported(string stages, string path, int line, int column, string fragment) =>
        AssertError(SpecYaml.With("  rollout:\n" + stages), path, line, column, fragment);

    [Fact]
    public void Gate_criteria_do_not_need_else()
    {
        var result = SpecReader.Read(SpecYaml.With("  rollout:\n    - { name: a, groups: [g], gate: [ { metric: acceptance_rate, min: 0.9 } ] }"), "demo.yaml");
        Assert.Empty(result.Errors);
        Assert.Null(Assert.Single(Assert.Single(result.Specs).Rollout[0].Gate).Else);
    }

    // Pause rules start at line 12.
    [Theory]
    [InlineData("    - { metric: error_rate, window: 2w, above: 0.1 }", "spec.pauseRules[0].window", 12, 37, "invalid window '2w': write a whole number of minutes, hours or days such as 30m, 1h or 1d")]
    [InlineData("    - { metric: error_rate, over: 50, window: 1h, above: 0.1 }", "spec.pauseRules[0]", 12, 7, "use either over (the last N samples) or window (a time span), not both")]
    [InlineData("    - { metric: error_rate, over: 0, above: 0.1 }", "spec.pauseRules[0].over", 12, 35, "over must be 1 or more, found 0")]
    [InlineData("    - { metric: error_rate, action: pause }", "spec.pauseRules[0]", 12, 7, "a pause rule needs above or below")]
    [InlineData("    - { metric: error_rate, above: 0.1, action: restrict }", "spec.pauseRules[0].to", 12, 7, "missing required field 'to': restrict needs a stricter mode")]
    [InlineData("    - { metric: error_rate, above: 0.1, action: pause, to: approval }", "spec.pauseRules[0].to", 12, 60, "'to' only applies to action restrict, not pause")]
    [InlineData("    - { metric: error_rate, above: 0.1, action: restrict, to: nowhere }", "spec.pauseRules[0].to", 12, 63, "'nowhere' is neither a serving mode (full, draft, approval, read_only, shadow) nor a rollout stage name")]
    [InlineData("    - { metric: error_rate, above: 0.1, action: explode }", "spec.pauseRules[0].action", 12, 49, "invalid value 'explode': allowed values are pause, restrict, rollback, notify")]
    [InlineData("    - { metric: eror_rate, above: 0.1 }", "spec.pauseRules[0].metric", 12, 17, "unknown metric 'eror_rate' (did you mean error_rate?)")]
    [InlineData("    - { metric: rejection_rate, above: 30 }", "spec.pauseRules[0].above", 12, 40, "rejection_rate is a rate between 0 and 1, found 30")]
    public void Pause_rule_problem_is_reported(string rules, string path, int line, int column, string fragment) =>
        AssertError(SpecYaml.With("  pauseRules:\n" + rules), path, line, column, fragment);

    [Theory]
    [InlineData("approval")]
    [InlineData("team")]
    public void Restrict_may_name_a_mode_or_a_stage(string to)
    {
        var result = SpecReader.Read(SpecYaml.With($"  rollout: [ {{ name: team, groups: [g] }} ]\n  pauseRules:\n    - {{ metric: error_rate, window: 30m, above: 0.1, action: restrict, to: {to} }}"), "demo.yaml");
        Assert.Empty(result.Errors);
        Assert.Equal(to, Assert.Single(Assert.Single(result.Specs).PauseRules).To);
    }

    // Data boundary.
    [Theory]
    [InlineData("  dataBoundary: { block: [credit_card, ibann] }", "spec.dataBoundary.block[1]", 11, 40, "unknown detector 'ibann' (did you mean iban?): use a built-in one (secret, credit_card, iban, eu_vat, us_ssn, uk_nino, email, phone) or declare it under dataBoundary.detectors")]
    [InlineData("  dataBoundary: { redact: [ssn] }", "spec.dataBoundary.redact[0]", 11, 28, "unknown detector 'ssn'")]
    [InlineData("  dataBoundary: { redact: [email], answers: hide }", "spec.dataBoundary.answers", 11, 45, "invalid value 'hide': allowed values are redact, block")]
    [InlineData("  dataBoundary: { answers: redact }", "spec.dataBoundary.answers", 11, 28, "none is listed: name detectors under block or redact")]
    [InlineData("  dataBoundary: { detectors: [ { name: ticket, pattern: '([a-z' } ] }", "spec.dataBoundary.detectors[0].pattern", 11, 57, "pattern does not compile as a .NET regular expression")]
    [InlineData("  dataBoundary: { detectors: [ { name: email, pattern: 'x' } ] }", "spec.dataBoundary.detectors[0].name", 11, 40, "'email' is a built-in detector")]
    [InlineData("  dataBoundary: { detectors: [ { name: Ticket, pattern: 'x' } ] }", "spec.dataBoundary.detectors[0].name", 11, 40, "invalid detector name 'Ticket'")]
    [InlineData("  dataBoundary: { detectors: [ { name: t, pattern: 'x' }, { name: t, pattern: 'y' } ] }", "spec.dataBoundary.detectors[1].name", 11, 67, "duplicate detector name 't'")]
    public void Data_boundary_problem_is_reported(string extra, string path, int line, int column, string fragment) =>
        AssertError(SpecYaml.With(extra), path, line, column, fragment);

    [Fact]
    public void Custom_detector_can_be_used_by_name()
    {
        var result = SpecReader.Read(SpecYaml.With("  dataBoundary:\n    block: [ticket]\n    detectors: [ { name: ticket, pattern: 'TCK-[0-9]+' } ]"), "demo.yaml");
        Assert.Empty(result.Errors);
        var boundary = Assert.Single(result.Specs).DataBoundary;
        Assert.Equal(["ticket"], boundary.Block);
        Assert.Equal("TCK-[0-9]+", Assert.Single(boundary.Detectors).Pattern);
    }

    // Problems in the fixed part of the minimal spec.
    [Theory]
    [InlineData(1, "apiVersion: pilotage/v2", "apiVersion", 1, 13, "unsupported apiVersion 'pilotage/v2': expected pilotage/v1")]
    [InlineData(1, null, "apiVersion", 1, 1, "missing required field 'apiVersion'")]
    [InlineData(2, "kind: Service", "kind", 2, 7, "unsupported kind 'Service': expected AiSystem")]
    [InlineData(4, "  name: Demo_System", "metadata.name", 4, 9, "invalid name 'Demo_System': use 2-63 lowercase letters, digits or hyphens, starting with a letter")]
    [InlineData(4, "  name: x", "metadata.name", 4, 9, "invalid name 'x'")]
    [InlineData(4, "  name: 9lives", "metadata.name", 4, 9, "invalid name '9lives'")]
    [InlineData(4, "  title: [a]", "metadata.name", 4, 3, "missing required field 'name'")]
    [InlineData(6, "  owner: dana", "spec.owner", 6, 10, "owner must be an e-mail address (the accountable person), found 'dana'")]
    [InlineData(6, null, "spec.owner", 6, 3, "missing required field 'owner'")]
    [InlineData(7, "  purpose: ''", "spec.purpose", 7, 12, "'purpose' must not be empty")]
    [InlineData(7, "  purpose: ~", "spec.purpose", 7, 12, "'purpose' must not be empty")]
    [InlineData(8, "  upstreams:", "spec.upstream", 6, 3, "missing required field 'upstream'")]
    [InlineData(9, "    baseUrl: localhost:11434", "spec.upstream.baseUrl", 9, 14, "baseUrl must be an absolute http(s) URL such as http://127.0.0.1:11434/v1, found 'localhost:11434'")]
    [InlineData(9, "    baseUrl: /v1", "spec.upstream.baseUrl", 9, 14, "baseUrl must be an absolute http(s) URL")]
    [InlineData(9, "    baseUrl: ftp://models.example.org/v1", "spec.upstream.baseUrl", 9, 14, "baseUrl must be an absolute http(s) URL")]
    [InlineData(10, null, "spec.upstream.model", 9, 5, "missing required field 'model'")]
    public void Problem_in_a_required_field_is_reported(int line, string? replacement, string path, int errorLine, int column, string fragment)
    {
        var yaml = SpecYaml.Replacing(line, replacement);
        var result = SpecReader.Read(yaml, "demo.yaml");
        // Renaming `upstream` also leaves its children under an unknown key: only the missing field matters here.
        var error = Assert.Single(result.Errors, e => e.Path == path);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        Assert.Equal((errorLine, column), (error.Line, error.Column));
    }

    [Fact]
    public void Missing_spec_and_metadata_are_two_errors_at_the_document()
    {
        var result = SpecReader.Read("apiVersion: pilotage/v1\nkind: AiSystem\n", "demo.yaml");
        Assert.Equal(
            [("metadata", "missing required field 'metadata'", 1, 1), ("spec", "missing required field 'spec'", 1, 1)],
            result.Errors.Select(e => (e.Path, e.Message, e.Line, e.Column)));
    }

    [Fact]
    public void A_document_that_is_not_a_mapping_is_one_error()
    {
        AssertError("- a\n- b\n", "", 1, 1, "expected a mapping (key: value pairs), found a list");
    }

    [Fact]
    public void A_document_with_N_distinct_problems_yields_N_errors_in_file_order()
    {
        const string yaml = """
            apiVersion: pilotage/v1
            kind: AiSystem
            metadata:
              name: Demo
            spec:
              owner: dana
              purpose: Test
              risk: extreme
              upstream:
                baseUrl: http://127.0.0.1:11434/v1
                model: llama3.1
              config: { temperature: 5 }
              pilot:
                group: g
                ends: someday
                criteria:
                  - { metric: acceptence_rate, min: 0.8, else: redesign }
                  - { metric: incidents_high, max: 0 }
              pauseRules:
                - { metric: cost_per_day, action: restrict }
            """;
        var result = SpecReader.Read(yaml, "demo.yaml");
        Assert.Equal(
        [
            ("metadata.name", 4, 9),
            ("spec.owner", 6, 10),
            ("spec.risk", 8, 9),
            ("spec.config.temperature", 12, 26),
            ("spec.pilot.ends", 15, 11),
            ("spec.pilot.criteria[0].metric", 17, 19),
            ("spec.pilot.criteria[1].else", 18, 9),
            ("spec.pauseRules[0]", 20, 7),
            ("spec.pauseRules[0].to", 20, 7),
        ], result.Errors.Select(e => (e.Path, e.Line, e.Column)));
        Assert.Empty(result.Specs);
    }

    [Fact]
    public void Error_text_names_file_path_message_and_position()
    {
        var error = Single(SpecYaml.With("  risk: severe"));
        Assert.Equal("demo.yaml: spec.risk: invalid value 'severe': allowed values are low, medium, high at line 11, column 9", error.ToString());
    }
}
