using System.Globalization;
using System.Text;
using Pilotage.Core.Evidence;
using Pilotage.Core.Import;

namespace Pilotage.Core.Tests.Import;

public sealed class EvidenceCsvTests
{
    private const string Header = "prompt,answer,outcome,final_text,review_seconds,rating,category,timestamp,user";

    private static EvidenceFile Read(string text, bool bom = false, DateTimeOffset? now = null)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bom) bytes = [0xEF, 0xBB, 0xBF, .. bytes];
        return EvidenceCsv.Read(bytes, now);
    }

    private static ImportError OneError(string text)
    {
        var file = Read(text);
        Assert.Empty(file.Records);
        return Assert.Single(file.Errors);
    }

    // The shape the import accepted with a regex before the check was written by hand; both must agree.
    private static readonly System.Text.RegularExpressions.Regex EmailRegex = new(@"^[^@\s]+@[^@\s]+\.[^@\s]+$");

    [Theory]
    [InlineData("dana@example.org")]
    [InlineData("d@e.f")]
    [InlineData("first.last+tag@mail.example.co.uk")]
    [InlineData("dana@example.")]
    [InlineData("dana@.org")]
    [InlineData("dana@.")]
    [InlineData("dana@example")]
    [InlineData("@example.org")]
    [InlineData("dana@")]
    [InlineData("dana@@example.org")]
    [InlineData("dana@ex@ample.org")]
    [InlineData("da na@example.org")]
    [InlineData("dana@example.org\u00a0")]
    [InlineData("dana@exa\tmple.org")]
    [InlineData("dana@a..b")]
    [InlineData("dana@..")]
    [InlineData("dana")]
    [InlineData("")]
    [InlineData("a@b.c.")]
    [InlineData("a@.b.c")]
    public void The_email_shape_is_the_one_the_regex_accepted(string value) =>
        Assert.Equal(EmailRegex.IsMatch(value), EvidenceCsv.IsEmailShape(value));

    [Fact]
    public void A_valid_file_reads_every_row_normalised()
    {
        var file = Read(
            Header + "\r\n" +
            "\"Where is my parcel, please?\",\"It left on Monday.\",accepted,,30,5,normal,2026-03-01T09:30:00Z,Dana@Example.org\r\n" +
            "Refund?,\"Yes, within \"\"30\"\" days.\",EDITED,\"Yes, within 14 days.\",75.5,3,Edge,2026-03-01T10:00:00+01:00,\r\n" +
            "\"Two\nlines\",Answer,,,,,,2026-03-02,\r\n" +
            "Q,A,rejected,,,,,2026-03-02 08:15,sam@example.org\r\n", bom: true);

        Assert.True(file.IsValid, string.Join("; ", file.Errors));
        Assert.Equal(4, file.Records.Count);
        var first = file.Records[0];
        Assert.Equal(2, first.Row);
        Assert.Equal("Where is my parcel, please?", first.Prompt);
        Assert.Equal(ReviewOutcome.Accepted, first.Outcome);
        Assert.Equal(30, first.ReviewSeconds);
        Assert.Equal(5, first.Rating);
        Assert.Equal("normal", first.Category);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.Zero), first.Timestamp);
        Assert.Equal("dana@example.org", first.User);

        var second = file.Records[1];
        Assert.Equal("Yes, within \"30\" days.", second.Answer);
        Assert.Equal(ReviewOutcome.Edited, second.Outcome);
        Assert.Equal("Yes, within 14 days.", second.FinalText);
        Assert.Equal(75.5, second.ReviewSeconds);
        Assert.Equal("edge", second.Category);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero), second.Timestamp);
        Assert.Equal(TimeSpan.Zero, second.Timestamp.Offset);
        Assert.Null(second.User);

        var third = file.Records[2];
        Assert.Equal("Two\nlines", third.Prompt);
        Assert.Null(third.Outcome);
        Assert.Null(third.ReviewSeconds);
        Assert.Null(third.Rating);
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero), third.Timestamp);

        var fourth = file.Records[3];
        Assert.Equal(6, fourth.Row); // the quoted line break of the row before takes a line
        Assert.Equal(ReviewOutcome.Rejected, fourth.Outcome);
        Assert.Equal(0, fourth.ReviewSeconds); // reviewed, time not recorded
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 8, 15, 0, TimeSpan.Zero), fourth.Timestamp);
    }

    [Fact]
    public void Columns_are_case_insensitive_in_any_order_and_only_three_are_required()
    {
        var file = Read("Timestamp, ANSWER ,Prompt\n2026-01-05T08:00:00.125Z,the answer,the prompt\n");
        Assert.True(file.IsValid, string.Join("; ", file.Errors));
        var record = Assert.Single(file.Records);
        Assert.Equal(("the prompt", "the answer"), (record.Prompt, record.Answer));
        Assert.Equal(125, record.Timestamp.Millisecond);
    }

    [Theory]
    [InlineData("2026-03-01")]
    [InlineData("2026-03-01T09:30")]
    [InlineData("2026-03-01T09:30:00")]
    [InlineData("2026-03-01T09:30:00.5")]
    [InlineData("2026-03-01T09:30:00Z")]
    [InlineData("2026-03-01T09:30:00.123456Z")]
    [InlineData("2026-03-01T11:30:00+02:00")]
    [InlineData("2026-03-01T04:30:00-05:00")]
    [InlineData("2026-03-01 09:30:00")]
    public void Timestamps_are_iso_8601_dates_or_date_times_utc_when_no_offset(string timestamp)
    {
        var file = Read($"prompt,answer,timestamp\np,a,{timestamp}\n");
        Assert.True(file.IsValid, string.Join("; ", file.Errors));
        var at = file.Records.Single().Timestamp;
        Assert.Equal(TimeSpan.Zero, at.Offset);
        Assert.Equal(new DateOnly(2026, 3, 1), DateOnly.FromDateTime(at.UtcDateTime));
        if (timestamp.Length > 10) Assert.Equal((9, 30), (at.Hour, at.Minute));
    }

    [Theory]
    [InlineData("01/03/2026")]
    [InlineData("2026-13-01")]
    [InlineData("2026-02-30")]
    [InlineData("yesterday")]
    [InlineData("2026-03-01T25:00:00Z")]
    public void A_bad_date_is_an_error_on_its_row_and_column(string timestamp)
    {
        var error = OneError($"prompt,answer,timestamp\np,a,2026-03-01\np,a,{timestamp}\n");
        Assert.Equal((3, "timestamp"), (error.Row, error.Column));
        Assert.Contains($"'{timestamp}' is not an ISO 8601", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_timestamp_in_the_future_is_an_error_when_the_clock_is_given()
    {
        var now = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var file = Read("prompt,answer,timestamp\np,a,2026-12-03\n", now: now);
        var error = Assert.Single(file.Errors);
        Assert.Contains("future", error.Message, StringComparison.Ordinal);
        Assert.True(Read("prompt,answer,timestamp\np,a,2026-12-03\n").IsValid);
    }

    [Fact]
    public void An_unknown_outcome_is_an_error_with_a_suggestion()
    {
        var error = OneError("prompt,answer,timestamp,outcome\np,a,2026-03-01,acepted\n");
        Assert.Equal((2, "outcome"), (error.Row, error.Column));
        Assert.Contains("unknown outcome 'acepted'; did you mean 'accepted'?", error.Message, StringComparison.Ordinal);
        Assert.Contains("leave it empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Edited_without_final_text_is_an_error()
    {
        var error = OneError("prompt,answer,timestamp,outcome,final_text\np,a,2026-03-01,edited,\n");
        Assert.Equal((2, "final_text"), (error.Row, error.Column));
        Assert.Contains("'edited'", error.Message, StringComparison.Ordinal);

        var noColumn = OneError("prompt,answer,timestamp,outcome\np,a,2026-03-01,edited\n");
        Assert.Equal((2, "final_text"), (noColumn.Row, noColumn.Column));
        Assert.Contains("no final_text column", noColumn.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_required_column_is_one_error_naming_it()
    {
        var error = OneError("prompt,outcome,timestamp\np,accepted,2026-03-01\np,rejected,2026-03-02\n");
        Assert.Equal((1, "answer"), (error.Row, error.Column));
        Assert.Contains("required column 'answer' is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_column_is_an_error_with_did_you_mean()
    {
        var error = OneError("prompt,answer,timestamp,raiting\np,a,2026-03-01,4\n");
        Assert.Equal((1, "raiting"), (error.Row, error.Column));
        Assert.Contains("unknown column 'raiting'; did you mean 'rating'?", error.Message, StringComparison.Ordinal);

        var unrelated = OneError("prompt,answer,timestamp,department\np,a,2026-03-01,sales\n");
        Assert.DoesNotContain("did you mean", unrelated.Message, StringComparison.Ordinal);
        Assert.Contains("The columns are prompt, answer", unrelated.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_column_named_twice_or_not_named_is_an_error()
    {
        var file = Read("prompt,answer,timestamp,Prompt,\np,a,2026-03-01,p,\n");
        Assert.Equal(2, file.Errors.Count);
        Assert.Contains(file.Errors, e => e.Column == "prompt" && e.Message.Contains("twice", StringComparison.Ordinal));
        Assert.Contains(file.Errors, e => e.Message.Contains("column 5 of the header has no name", StringComparison.Ordinal));
    }

    [Fact]
    public void A_ragged_row_says_how_many_fields_were_expected_and_found()
    {
        var file = Read("prompt,answer,timestamp\np,a,2026-03-01\np,a\np,a,2026-03-01,extra\n");
        Assert.Empty(file.Records);
        Assert.Equal(2, file.Errors.Count);
        Assert.Equal(3, file.Errors[0].Row);
        Assert.Null(file.Errors[0].Column);
        Assert.Contains("expected 3 fields (as in the header), found 2", file.Errors[0].Message, StringComparison.Ordinal);
        Assert.Equal(4, file.Errors[1].Row);
        Assert.Contains("found 4", file.Errors[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_larger_than_25_mb_is_one_error_and_is_not_parsed()
    {
        var bytes = new byte[50 * 1024 * 1024];
        bytes.AsSpan().Fill((byte)'"'); // would be one endless quoted field if it were parsed
        var file = EvidenceCsv.Read(bytes);
        var error = Assert.Single(file.Errors);
        Assert.Equal(0, error.Row);
        Assert.Equal("file is 50.0 MB; split it into files of at most 25 MB", error.Message);
        Assert.Equal(bytes.Length, file.Bytes);

        Assert.Single(EvidenceCsv.Read(new byte[EvidenceCsv.MaxFileBytes + 1]).Errors);
    }

    [Fact]
    public void Invalid_utf8_is_an_error_with_its_line()
    {
        var bytes = Encoding.UTF8.GetBytes("prompt,answer,timestamp\np,a,2026-03-01\np,caf").Concat(new byte[] { 0xE9, (byte)',', (byte)'x' }).ToArray();
        var error = Assert.Single(EvidenceCsv.Read(bytes).Errors);
        Assert.Equal(3, error.Row);
        Assert.Contains("not valid UTF-8", error.Message, StringComparison.Ordinal);
        Assert.Contains("byte 6 of line 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_by_row_keeps_the_good_rows_and_names_each_refused_one()
    {
        var bytes = Encoding.UTF8.GetBytes("prompt,answer,timestamp\np,a,2026-03-01\np,a\n=1+1,a,2026-03-01\np,caf")
            .Concat(new byte[] { 0xE9 }).Concat(Encoding.UTF8.GetBytes(",2026-03-01\nq,b,2026-03-02\np,a,2026-03-01,x\n")).ToArray();
        var file = EvidenceCsv.ReadRows(bytes);
        Assert.False(file.Unreadable);
        Assert.Equal([2, 6], file.Records.Select(r => r.Row));
        Assert.Equal(4, file.Rejected);
        Assert.Equal([(3, null), (4, "prompt"), (5, null), (7, null)], file.Errors.Select(e => (e.Row, e.Column)));
        Assert.Contains("byte 6 of line 5", file.Errors[2].Message, StringComparison.Ordinal);
        // Read is all or nothing: the same file gives the errors and no rows.
        Assert.Empty(EvidenceCsv.Read(bytes).Records);
    }

    [Theory]
    [InlineData("=HYPERLINK(\"\"http://evil.example\"\")", "'='")]
    [InlineData("+cmd|' /C calc'!A0", "'+'")]
    [InlineData("-2+3+cmd|' /C calc'!A0", "'-'")]
    [InlineData("@SUM(1+1)", "'@'")]
    [InlineData("\t=1+1", "a tab")]
    public void A_cell_a_spreadsheet_would_run_as_a_formula_is_refused_on_its_row(string value, string start)
    {
        var error = OneError("prompt,answer,timestamp\n\"" + value + "\",a,2026-03-01\n");
        Assert.Equal((2, "prompt"), (error.Row, error.Column));
        Assert.Contains($"starts with {start}, which a spreadsheet runs as a formula", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("- a list item")]
    [InlineData("-5")]
    [InlineData("-12.5")]
    [InlineData("'=1+1")]
    [InlineData(" =1+1")]
    public void Text_that_only_looks_like_a_formula_is_kept(string value)
    {
        var file = Read("prompt,answer,timestamp\n\"" + value + "\",a,2026-03-01\n");
        Assert.True(file.IsValid, string.Join("; ", file.Errors));
    }

    [Fact]
    public void A_field_over_the_limit_is_refused_on_its_row_and_column()
    {
        var file = EvidenceCsv.ReadRows(Encoding.UTF8.GetBytes("prompt,answer,timestamp\np," + new string('a', EvidenceCsv.MaxFieldChars + 1) + ",2026-03-01\nq,b,2026-03-01\n"));
        var error = Assert.Single(file.Errors);
        Assert.Equal((2, "answer"), (error.Row, error.Column));
        Assert.Contains("1,048,577 characters long; a field holds at most 1,048,576", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, Assert.Single(file.Records).Row);
    }

    [Fact]
    public void A_header_that_is_not_utf8_makes_the_file_unreadable()
    {
        var bytes = new byte[] { (byte)'p', 0xFF }.Concat(Encoding.UTF8.GetBytes("rompt,answer,timestamp\np,a,2026-03-01\n")).ToArray();
        var file = EvidenceCsv.ReadRows(bytes);
        Assert.True(file.Unreadable);
        Assert.Empty(file.Records);
        Assert.Contains(file.Errors, e => e.Row == 1 && e.Message.Contains("not valid UTF-8 (byte 2 of line 1)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("review_seconds", "-3", "cannot be negative")]
    [InlineData("review_seconds", "12,5", "not a number of seconds")]
    [InlineData("review_seconds", "1 min", "not a number of seconds")]
    [InlineData("review_seconds", "NaN", "not a number of seconds")]
    [InlineData("rating", "0", "from 1 to 5")]
    [InlineData("rating", "6", "from 1 to 5")]
    [InlineData("rating", "4.5", "whole number")]
    [InlineData("category", "edgy", "did you mean 'edge'?")]
    [InlineData("user", "dana", "not an e-mail address")]
    [InlineData("user", "dana@example", "not an e-mail address")]
    [InlineData("prompt", " ", "the prompt is empty")]
    [InlineData("answer", "", "the answer is empty")]
    [InlineData("timestamp", "", "the timestamp is empty")]
    public void Each_field_rule_is_an_error_on_its_row_and_column(string column, string value, string message)
    {
        var values = new Dictionary<string, string>
        {
            ["prompt"] = "p", ["answer"] = "a", ["outcome"] = "accepted", ["final_text"] = "", ["review_seconds"] = "10",
            ["rating"] = "4", ["category"] = "normal", ["timestamp"] = "2026-03-01", ["user"] = "dana@example.org",
        };
        values[column] = value;
        var row = string.Join(",", EvidenceCsv.Columns.Select(c => "\"" + values[c] + "\""));
        var error = OneError(Header + "\n" + row + "\n");
        Assert.Equal((2, column), (error.Row, error.Column));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Review_seconds_without_an_outcome_is_an_error()
    {
        var error = OneError("prompt,answer,timestamp,outcome,review_seconds\np,a,2026-03-01,,30\n");
        Assert.Equal("review_seconds", error.Column);
        Assert.Contains("outcome is empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_error_of_the_file_is_reported_in_file_order_and_nothing_is_returned()
    {
        var file = Read(
            "prompt,answer,timestamp,outcome,rating\n" +
            "p,a,2026-03-01,accepted,5\n" +
            "p,a,03/01/2026,accepted,5\n" +
            "p,a,2026-03-01,maybe,9\n" +
            "p,\"a\nb\",2026-03-01\n" +
            "p,a,2026-03-01,accepted,5\n");
        Assert.Empty(file.Records);
        Assert.Equal([(3, "timestamp"), (4, "outcome"), (4, "rating"), (5, null)], file.Errors.Select(e => (e.Row, e.Column)));
    }

    [Fact]
    public void Quoting_problems_are_reported_with_their_line_and_column()
    {
        var file = Read("prompt,answer,timestamp\np,say \"hi\",2026-03-01\n");
        var error = Assert.Single(file.Errors);
        Assert.Equal((2, "answer"), (error.Row, error.Column));

        var unclosed = Read("prompt,answer,timestamp\np,a,2026-03-01\n\"p,a,2026-03-01\n");
        var only = Assert.Single(unclosed.Errors); // not also "expected 3 fields, found 1"
        Assert.Equal((3, "prompt"), (only.Row, only.Column));
        Assert.Contains("never closed", only.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Blank_lines_and_rows_of_empty_fields_are_skipped()
    {
        var file = Read("prompt,answer,timestamp\n\np,a,2026-03-01\n,,\n\n");
        Assert.True(file.IsValid, string.Join("; ", file.Errors));
        Assert.Equal(3, Assert.Single(file.Records).Row);
    }

    [Fact]
    public void An_empty_file_or_a_header_alone_is_an_error()
    {
        Assert.Contains("empty", OneError("").Message, StringComparison.Ordinal);
        Assert.Contains("empty", EvidenceCsv.Read([0xEF, 0xBB, 0xBF]).Errors.Single().Message, StringComparison.Ordinal);
        Assert.Contains("no rows", OneError("prompt,answer,timestamp\n").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_semicolon_separated_file_gets_a_hint()
    {
        var file = Read("prompt;answer;timestamp\np;a;2026-03-01\n");
        Assert.Contains(file.Errors, e => e.Row == 1 && e.Message.Contains("semicolons", StringComparison.Ordinal));
    }

    [Fact]
    public void Errors_beyond_the_limit_are_counted_not_listed()
    {
        var text = new StringBuilder("prompt,answer,timestamp\n");
        for (var i = 0; i < EvidenceCsv.MaxErrorsListed + 50; i++) text.Append("p,a,never\n");
        var file = Read(text.ToString());
        Assert.Equal(EvidenceCsv.MaxErrorsListed + 1, file.Errors.Count);
        Assert.Contains("50 more error(s)", file.Errors[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_file_hash_is_the_sha256_of_the_bytes()
    {
        var bytes = Encoding.UTF8.GetBytes("prompt,answer,timestamp\np,a,2026-03-01\n");
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), EvidenceCsv.Read(bytes).Sha256);
    }

    [Fact]
    public void Interaction_ids_are_deterministic_and_depend_on_system_time_user_prompt_and_answer()
    {
        var record = Read("prompt,answer,timestamp,user\np,a,2026-03-01T10:00:00+01:00,dana@example.org\n").Records.Single();
        var id = EvidenceCsv.InteractionId("support", record);
        Assert.Equal(40, id.Length);
        // int_, the time (2026-03-01T09:00:00Z in milliseconds since 1970, 12 hex characters), 24 hex characters of hash.
        Assert.Matches("^int_[0-9a-f]{36}$", id);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds().ToString("x12", CultureInfo.InvariantCulture), id[4..16]);
        Assert.Equal(id, EvidenceCsv.InteractionId("support", Read("PROMPT,ANSWER,TIMESTAMP,USER\np,a,2026-03-01T09:00:00Z,Dana@example.org\n").Records.Single()));
        Assert.NotEqual(id, EvidenceCsv.InteractionId("other", record));
        Assert.NotEqual(id, EvidenceCsv.InteractionId("support", record with { User = null }));
        Assert.NotEqual(id, EvidenceCsv.InteractionId("support", record with { Timestamp = record.Timestamp.AddSeconds(1) }));
        // Text moved across the prompt/answer boundary is a different row.
        Assert.NotEqual(
            EvidenceCsv.InteractionId("s", record with { Prompt = "a|b", Answer = "c" }),
            EvidenceCsv.InteractionId("s", record with { Prompt = "a", Answer = "b|c" }));
        // The review is not part of the identity: re-importing a row with a corrected review is still the same row.
        Assert.Equal(id, EvidenceCsv.InteractionId("support", record with { Outcome = ReviewOutcome.Rejected, Rating = 2 }));
    }

    [Fact]
    public void Ids_follow_the_rows_time_so_a_file_in_time_order_has_ids_in_order()
    {
        var text = new StringBuilder("prompt,answer,timestamp,user\n");
        var start = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        // Three rows per second, the last two of each second in the same millisecond; users and texts vary.
        for (var i = 0; i < 600; i++)
        {
            var at = start.AddSeconds(i / 3).AddMilliseconds(i % 3 == 0 ? 0 : 500);
            text.Append(CultureInfo.InvariantCulture, $"question {i * 7919 % 1000},answer {i},{at:yyyy-MM-dd'T'HH:mm:ss.fff'Z'},u{i % 13}@example.org\n");
        }
        var records = Read(text.ToString()).Records;
        var ids = records.Select(r => EvidenceCsv.InteractionId("support", r)).ToList();
        Assert.Equal(600, ids.Distinct(StringComparer.Ordinal).Count());
        for (var i = 1; i < ids.Count; i++)
        {
            if (records[i].Timestamp > records[i - 1].Timestamp) Assert.True(string.CompareOrdinal(ids[i - 1], ids[i]) < 0, $"{ids[i - 1]} then {ids[i]}");
            else Assert.Equal(ids[i - 1][..16], ids[i][..16]); // the same millisecond: the time part is shared, the hash tells them apart
        }
    }

    [Fact]
    public void A_row_dated_before_1970_gets_an_id_of_time_zero_that_still_tells_rows_apart()
    {
        var records = Read("prompt,answer,timestamp\np,a,1969-12-31T23:59:59Z\np,a,0001-01-01\nq,a,0001-01-01\n").Records;
        var ids = records.Select(r => EvidenceCsv.InteractionId("support", r)).ToList();
        Assert.All(ids, id => Assert.Matches("^int_000000000000[0-9a-f]{24}$", id));
        Assert.Equal(3, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void A_hostile_row_copying_another_systems_row_and_time_gets_its_own_id_never_a_gateway_ones()
    {
        // The time part of an id comes from the file, so a hostile file chooses it: it can place its rows next to another
        // system's, not on them. The hash covers the system too, so the same row in another system is another id, and
        // an imported id is 40 characters where a gateway id (int_ + a UUIDv7) is 36, so it never equals one.
        var victim = Read("prompt,answer,timestamp,user\nsalary of dana?,42 k,2026-03-01T09:00:00.123Z,dana@example.org\n").Records.Single();
        var victimId = EvidenceCsv.InteractionId("payroll", victim);
        var hostileId = EvidenceCsv.InteractionId("attacker", victim);
        Assert.Equal(victimId[..16], hostileId[..16]);
        Assert.NotEqual(victimId[16..], hostileId[16..]);
        // Nor by moving the system's name into the user or the prompt.
        Assert.NotEqual(victimId, EvidenceCsv.InteractionId("pay", victim with { User = "roll" + victim.User }));
        Assert.NotEqual(victimId, EvidenceCsv.InteractionId("", victim with { Prompt = "payroll" + victim.Prompt }));
        Assert.Equal(EvidenceCsv.IdLength, hostileId.Length);
        Assert.NotEqual(36, EvidenceCsv.IdLength);
    }

    [Fact]
    public void The_hashed_time_is_the_utc_time_to_the_tenth_of_a_microsecond()
    {
        // The id hashes "yyyy-MM-ddTHH:mm:ss.fffffffZ"; a time that differs only past the millisecond is another row.
        var record = Read("prompt,answer,timestamp\np,a,2026-03-01T10:00:00.1234567+01:00\n").Records.Single();
        Assert.Equal("2026-03-01T09:00:00.1234567Z", record.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        Assert.Equal(record.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture), record.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        var id = EvidenceCsv.InteractionId("support", record);
        var later = EvidenceCsv.InteractionId("support", record with { Timestamp = record.Timestamp.AddTicks(1) });
        Assert.Equal(id[..16], later[..16]);
        Assert.NotEqual(id, later);
    }

    [Fact]
    public void An_id_from_a_reused_hash_is_the_id_from_a_one_shot_hash()
    {
        var record = Read("prompt,answer,timestamp,user\np,a,2026-03-01T10:00:00+01:00,dana@example.org\n").Records.Single();
        using var sha256 = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        // Many rows through one hash, short and long (a pooled buffer past 2 KB), so no state leaks from one row to the next.
        for (var i = 0; i < 50; i++)
        {
            var row = record with { Prompt = new string('p', i * 97) + i, Answer = "ä😀" + i };
            Assert.Equal(EvidenceCsv.InteractionId("support", row), EvidenceCsv.InteractionId("support", row, sha256));
        }
    }

    [Fact]
    public void The_example_file_is_valid()
    {
        var file = EvidenceCsv.Read(File.ReadAllBytes(RepoPaths.Example("evidence-import.csv")));
        Assert.True(file.IsValid, string.Join("; ", file.Errors));
        Assert.True(file.Records.Count >= 5);
    }
}
