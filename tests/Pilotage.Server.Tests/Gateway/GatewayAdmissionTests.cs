using Pilotage.Server.Gateway;

namespace Pilotage.Server.Tests.Gateway;

public sealed class GatewayAdmissionTests
{
    private sealed class Held(List<int> released, int number) : IDisposable
    {
        public int Releases { get; private set; }

        public void Dispose()
        {
            Releases++;
            released.Add(number);
        }
    }

    [Fact]
    public void Everything_held_is_released_once_last_taken_first_however_many_there_are()
    {
        var released = new List<int>();
        var admission = new GatewayAdmission();
        var held = Enumerable.Range(1, 7).Select(i => new Held(released, i)).ToList();
        foreach (var resource in held) admission.Hold(resource);
        Assert.Empty(released);

        admission.Dispose();
        admission.Dispose();

        Assert.Equal([7, 6, 5, 4, 3, 2, 1], released);
        Assert.All(held, h => Assert.Equal(1, h.Releases));
    }

    [Fact]
    public void What_is_held_after_the_admission_ended_is_released_at_once()
    {
        var released = new List<int>();
        var admission = new GatewayAdmission();
        admission.Hold(new Held(released, 1));
        admission.Dispose();

        admission.Hold(new Held(released, 2));

        Assert.Equal([1, 2], released);
    }
}
