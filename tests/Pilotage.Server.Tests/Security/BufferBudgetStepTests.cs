using Pilotage.Server.Gateway;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// The one rule by which a request body and an answer that outgrow their reservation reserve more
/// (<see cref="BufferBudget.Step"/>, <see cref="BufferBudget.TryGrow"/>): the reservation doubles from 16 KB, by the
/// caller's largest step at most, and always covers what is held.
/// </summary>
public sealed class BufferBudgetStepTests
{
    private const long KB = 1024;

    [Theory]
    // Nothing reserved yet (a chunked body, an answer without Content-Length): the first step is 16 KB, not the largest.
    [InlineData(0, 300, 64 * KB, 16 * KB)]
    [InlineData(0, 300, 256 * KB, 16 * KB)]
    // Then the reservation doubles...
    [InlineData(16 * KB, 16 * KB + 1, 64 * KB, 16 * KB)]
    [InlineData(32 * KB, 32 * KB + 1, 64 * KB, 32 * KB)]
    [InlineData(64 * KB, 64 * KB + 1, 256 * KB, 64 * KB)]
    // ...up to the caller's largest step: 64 KB for request bodies, 256 KB for answers.
    [InlineData(1024 * KB, 1024 * KB + 1, 64 * KB, 64 * KB)]
    [InlineData(1024 * KB, 1024 * KB + 1, 256 * KB, 256 * KB)]
    // A read larger than the step is covered whole: the buffer never holds more than is reserved.
    [InlineData(16 * KB, 16 * KB + 100 * KB, 64 * KB, 100 * KB)]
    [InlineData(0, 1024 * KB, 256 * KB, 1024 * KB)]
    public void The_reservation_doubles_from_16_KB_up_to_the_largest_step_and_covers_the_read(long reserved, long held, long largestStep, long step) =>
        Assert.Equal(step, BufferBudget.Step(reserved, held, largestStep));

    [Fact]
    public void A_growing_buffer_reserves_in_steps_counted_four_times_and_gives_them_back()
    {
        var budget = new BufferBudget(new GatewayOptions { MaxBufferedBytes = 1024 * KB });
        long reserved = 0;
        using (var admission = new GatewayAdmission())
        {
            // What fits in the reservation reserves nothing more.
            Assert.True(budget.TryGrow(admission, ref reserved, 0, 64 * KB));
            Assert.Equal(0, budget.InUse);

            // 16 KB, then 16 KB more, then 32 KB: each step counted CostPerByte times.
            Assert.True(budget.TryGrow(admission, ref reserved, 100, 64 * KB));
            Assert.Equal(16 * KB, reserved);
            Assert.True(budget.TryGrow(admission, ref reserved, 16 * KB, 64 * KB));
            Assert.Equal(16 * KB, reserved);
            Assert.True(budget.TryGrow(admission, ref reserved, 20 * KB, 64 * KB));
            Assert.True(budget.TryGrow(admission, ref reserved, 40 * KB, 64 * KB));
            Assert.Equal(64 * KB, reserved);
            Assert.Equal(64 * KB * BufferBudget.CostPerByte, budget.InUse);

            // The next step (64 KB, 256 KB counted) fits; the one after would pass the budget: refused, nothing reserved.
            Assert.True(budget.TryGrow(admission, ref reserved, 65 * KB, 64 * KB));
            Assert.Equal(128 * KB, reserved);
            Assert.True(budget.TryGrow(admission, ref reserved, 129 * KB, 64 * KB));
            Assert.Equal(192 * KB, reserved);
            Assert.Equal(768 * KB, budget.InUse);
            Assert.False(budget.TryGrow(admission, ref reserved, 193 * KB, 256 * KB));
            Assert.Equal(192 * KB, reserved);
            Assert.Equal(768 * KB, budget.InUse);
        }
        Assert.Equal(0, budget.InUse);
    }
}
