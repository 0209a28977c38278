using Pilotage.Server.Gateway;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// The upstream calls' time-out sources are reused: each call still gets its own limits and its client's cancellation,
/// and nothing of one call (its client leaving, a registration on its token, its limit) reaches the next one.
/// </summary>
public sealed class UpstreamTimeoutPoolTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    private static UpstreamTimeoutPool Pool(int most = 16) => new(new GatewayOptions { MaxUpstreamInFlight = most }, TimeProvider.System);

    [Fact]
    public void A_source_nothing_cancelled_is_reused_without_the_last_calls_client()
    {
        var pool = Pool();
        using var firstClient = new CancellationTokenSource();
        var first = pool.Rent(Long, Long, firstClient.Token);
        var leftOver = false;
        first.Token.Register(() => leftOver = true); // what HttpClient registers on a call's token
        first.Dispose();
        Assert.Equal(1, pool.Kept);

        using var secondClient = new CancellationTokenSource();
        using var second = pool.Rent(Long, Long, secondClient.Token);
        Assert.Same(first, second);
        Assert.Equal(0, pool.Kept);
        firstClient.Cancel();
        Assert.False(second.Token.IsCancellationRequested);

        secondClient.Cancel();
        Assert.True(second.Token.IsCancellationRequested);
        Assert.False(leftOver);
    }

    [Fact]
    public void The_client_leaving_cancels_the_call_and_its_source_is_not_reused()
    {
        var pool = Pool();
        using var client = new CancellationTokenSource();
        var timeouts = pool.Rent(Long, Long, client.Token);
        client.Cancel();
        Assert.True(timeouts.Token.IsCancellationRequested);
        timeouts.Dispose();
        Assert.Equal(0, pool.Kept);
        using var next = pool.Rent(Long, Long, CancellationToken.None);
        Assert.NotSame(timeouts, next);
        Assert.False(next.Token.IsCancellationRequested);
    }

    [Fact]
    public void A_client_already_gone_cancels_the_call_at_once()
    {
        using var timeouts = Pool().Rent(Long, Long, new CancellationToken(canceled: true));
        Assert.True(timeouts.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task The_first_byte_limit_fires_and_a_fired_source_is_not_reused()
    {
        var pool = Pool();
        var timeouts = pool.Rent(TimeSpan.FromMilliseconds(50), Long, CancellationToken.None);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Delay(Long, timeouts.Token));
        Assert.False(timeouts.TotalExpired);
        timeouts.Dispose();
        Assert.Equal(0, pool.Kept);
    }

    [Fact]
    public async Task A_reused_source_runs_its_own_limits()
    {
        var pool = Pool();
        var first = pool.Rent(TimeSpan.FromMinutes(1), Long, CancellationToken.None);
        first.HeadersArrived();
        Assert.True(first.TotalExpired);
        first.Dispose();

        var second = pool.Rent(TimeSpan.FromMinutes(1), Long, CancellationToken.None);
        Assert.Same(first, second);
        Assert.False(second.TotalExpired); // the headers of the earlier call do not count for this one
        second.Dispose();

        using var third = pool.Rent(Long, TimeSpan.FromMilliseconds(50), CancellationToken.None);
        Assert.Same(first, third);
        Assert.Equal((Long, TimeSpan.FromMilliseconds(50)), (third.FirstByte, third.Total));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Delay(Long, third.Token));
        Assert.True(third.TotalExpired); // the total was the shorter limit
    }

    [Fact]
    public async Task The_total_limit_applies_once_the_headers_arrived()
    {
        using var timeouts = Pool().Rent(TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(400), CancellationToken.None);
        timeouts.HeadersArrived();
        await Task.Delay(100);
        Assert.False(timeouts.Token.IsCancellationRequested); // past the first-byte limit, within the total
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Delay(Long, timeouts.Token));
        Assert.True(timeouts.TotalExpired);
    }

    [Fact]
    public void Disposed_twice_it_is_given_back_once()
    {
        var pool = Pool();
        var timeouts = pool.Rent(Long, Long, CancellationToken.None);
        timeouts.Dispose();
        timeouts.Dispose();
        Assert.Equal(1, pool.Kept);
        using var a = pool.Rent(Long, Long, CancellationToken.None);
        using var b = pool.Rent(Long, Long, CancellationToken.None);
        Assert.NotSame(a, b);
    }

    [Fact]
    public void It_keeps_no_more_than_the_calls_in_flight()
    {
        var pool = Pool(most: 2);
        var rented = Enumerable.Range(0, 5).Select(_ => pool.Rent(Long, Long, CancellationToken.None)).ToList();
        foreach (var timeouts in rented) timeouts.Dispose();
        Assert.Equal(2, pool.Kept);
        Assert.All(rented.Skip(2), t => Assert.Throws<ObjectDisposedException>(() => t.Token.WaitHandle));
    }

    [Fact]
    public void A_reused_source_allocates_nothing_per_call()
    {
        // The client's source is reused too, as Kestrel's request-aborted source is between requests on a connection.
        var pool = Pool();
        using var client = new CancellationTokenSource();
        static void Call(UpstreamTimeoutPool pool, CancellationToken aborted)
        {
            using var timeouts = pool.Rent(Long, Long, aborted);
            using var registration = timeouts.Token.UnsafeRegister(static _ => { }, null); // as HttpClient does
            timeouts.HeadersArrived();
        }
        for (var i = 0; i < 10; i++) Call(pool, client.Token);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++) Call(pool, client.Token);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
