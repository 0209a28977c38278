using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>Which engine a custom pattern runs on, and what its owner is told when it is the timed one.</summary>
public sealed class CustomPatternTests
{
    [Theory]
    [InlineData(@"EMP-\d{6}")]
    [InlineData("(a+)+$")]
    [InlineData("(?i)ticket[ #-]*[0-9]{4,8}")]
    [InlineData("[a-z]+?x")]
    public void Patterns_the_linear_engine_accepts_run_there_with_no_note(string pattern)
    {
        var classified = CustomPattern.Of(pattern);

        Assert.Equal(PatternEngine.Linear, classified.Engine);
        Assert.Null(classified.Reason);
        Assert.Null(classified.Note("ticket"));
    }

    [Theory]
    [InlineData("T-[0-9]{4}(?![0-9])", "lookahead")]
    [InlineData("(?<=id=)[0-9]+", "look")]
    [InlineData(@"(x)\1", "backreference")]
    [InlineData("(?>a+)b", "atomic")]
    [InlineData("x{1,50000}", "too large")]
    public void Patterns_that_need_backtracking_are_timed_and_the_note_says_why(string pattern, string reason)
    {
        var classified = CustomPattern.Of(pattern);

        Assert.Equal(PatternEngine.Timed, classified.Engine);
        Assert.Contains(reason, classified.Reason, StringComparison.Ordinal);
        var note = classified.Note("ticket")!;
        Assert.Contains("'ticket'", note, StringComparison.Ordinal);
        Assert.Contains("100 ms timeout", note, StringComparison.Ordinal);
        Assert.Contains("refuses the request", note, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pattern_that_does_not_compile_is_refused()
    {
        Assert.ThrowsAny<ArgumentException>(() => CustomPattern.Of("([a-z"));
        Assert.ThrowsAny<ArgumentException>(() => CustomPattern.Of("(?<=([a-z)x"));
    }
}
