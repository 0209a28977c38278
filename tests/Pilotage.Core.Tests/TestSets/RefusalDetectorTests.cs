using Pilotage.Core.TestSets;

namespace Pilotage.Core.Tests.TestSets;

public class RefusalDetectorTests
{
    [Theory]
    [InlineData("I can't share card details.", "i can't")]
    [InlineData("I can’t share card details.", "i can't")]
    [InlineData("I CANNOT do that.", "i cannot")]
    [InlineData("I can not do that.", "i can not")]
    [InlineData("Sadly, I'm unable to process payments.", "unable to")]
    [InlineData("I am not able to\nsee your account.", "i am not able to")]
    [InlineData("I'm sorry, but that is outside what I can do.", "i'm sorry, but")]
    [InlineData("Please contact the HR desk for this.", "please contact")]
    [InlineData("I will escalate this to a supervisor.", "escalate")]
    [InlineData("This request is outside my scope.", "outside my scope")]
    [InlineData("That question is out of scope for this assistant.", "out of scope")]
    [InlineData("I must decline to give legal advice.", "i must decline")]
    [InlineData("I don't know; the documents do not say.", "i don't know")]
    public void Detects_refusals_in_several_forms(string answer, string phrase) =>
        Assert.Equal(phrase, RefusalDetector.Find(answer));

    [Theory]
    [InlineData("Your refund of 20 EUR has been issued.")]
    [InlineData("If you can't log in, reset your password from the login page.")]
    [InlineData("Travel must be booked 14 days ahead (section 3.1).")]
    [InlineData("We de-escalated the ticket priority after the fix.")]
    [InlineData("The setting is tunable to your needs.")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void Ordinary_answers_are_not_refusals(string? answer) =>
        Assert.Null(RefusalDetector.Find(answer));

    [Fact]
    public void Only_the_start_of_a_huge_answer_is_scanned()
    {
        var answer = new string('x', RefusalDetector.MaxScannedChars) + " I cannot";
        Assert.Null(RefusalDetector.Find(answer));
        Assert.Equal("i cannot", RefusalDetector.Find("I cannot " + answer));
    }
}
