using Pilotage.Core.Import;

namespace Pilotage.Core.Tests.Import;

public sealed class CsvReaderTests
{
    private static IReadOnlyList<CsvRecord> Ok(string text)
    {
        var (records, problems) = CsvReader.Read(text);
        Assert.Empty(problems);
        return records;
    }

    [Fact]
    public void Records_end_with_crlf_lf_or_a_lone_cr_and_a_final_line_break_adds_no_record()
    {
        var records = Ok("a,b\r\nc,d\ne,f\rg,h\n");
        Assert.Equal(4, records.Count);
        Assert.Equal([1, 2, 3, 4], records.Select(r => r.Line));
        Assert.Equal(["g", "h"], records[3].Fields);
    }

    [Fact]
    public void The_last_record_needs_no_line_break()
    {
        var records = Ok("a,b\nc,d");
        Assert.Equal(["c", "d"], records[1].Fields);
    }

    [Fact]
    public void Quoted_fields_hold_commas_doubled_quotes_and_line_breaks_and_later_lines_are_counted_right()
    {
        var records = Ok("h1,h2\n\"one, two\",\"say \"\"hi\"\"\"\n\"line 1\r\nline 2\nline 3\",x\nlast,row\n");
        Assert.Equal(["one, two", "say \"hi\""], records[1].Fields);
        Assert.Equal("line 1\r\nline 2\nline 3", records[2].Fields[0]);
        Assert.Equal(3, records[2].Line);
        Assert.Equal(6, records[3].Line); // the quoted field spans lines 3 to 5
    }

    [Fact]
    public void Empty_fields_are_kept_including_a_trailing_one()
    {
        Assert.Equal(["", "", ""], Ok(",,").Single().Fields);
        Assert.Equal(["a", ""], Ok("a,\n").Single().Fields);
        Assert.Equal(["", "b"], Ok("\"\",b").Single().Fields);
    }

    [Fact]
    public void Spaces_are_part_of_the_field()
    {
        Assert.Equal([" a ", " b"], Ok(" a , b").Single().Fields);
    }

    [Fact]
    public void An_unclosed_quote_is_reported_at_the_line_it_opens()
    {
        var (records, problems) = CsvReader.Read("h1,h2\nok,row\nx,\"never closed\nmore\n");
        var problem = Assert.Single(problems);
        Assert.Equal(3, problem.Line);
        Assert.Equal(2, problem.Record);
        Assert.Equal(1, problem.Field);
        Assert.Contains("never closed", problem.Message, StringComparison.Ordinal);
        Assert.Equal(3, records.Count);
    }

    [Fact]
    public void Text_after_a_closing_quote_is_a_problem()
    {
        var (_, problems) = CsvReader.Read("h1,h2\n\"ab\"c,d\n");
        var problem = Assert.Single(problems);
        Assert.Equal(2, problem.Line);
        Assert.Equal(0, problem.Field);
        Assert.Contains("two quotes", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_quote_inside_an_unquoted_field_is_a_problem()
    {
        var (_, problems) = CsvReader.Read("h1,h2\na,b\"c\n");
        var problem = Assert.Single(problems);
        Assert.Equal((2, 1, 1), (problem.Line, problem.Record, problem.Field));
    }

    [Fact]
    public void An_empty_text_has_no_records()
    {
        Assert.Empty(Ok(""));
    }
}
