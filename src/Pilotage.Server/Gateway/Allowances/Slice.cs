namespace Pilotage.Server.Gateway.Allowances;

/// <summary>What a shared limit said about one request.</summary>
public enum AllowanceOutcome
{
    Granted,
    /// <summary>Nothing left: the limit is reached across the replicas (or the others did not give back in time).</summary>
    Exhausted,
    /// <summary>The store could not be asked: the request is refused (fail closed).</summary>
    Unreachable,
}

/// <summary>One limit in one window as this replica holds it; fields guarded by <see cref="Gate"/>.</summary>
#pragma warning disable CA1001 // The semaphore's wait handle is never asked for, so it holds nothing to dispose; a request may still wait on it as the slice is dropped.
internal sealed class Slice(string key, long window, DateTimeOffset ends)
{
    public readonly Lock Gate = new();
    /// <summary>One store call at a time per slice.</summary>
    public readonly SemaphoreSlim Turn = new(1, 1);
    public string Key => key;
    public long Window => window;
    public DateTimeOffset Ends => ends;
    public long Limit;
    public long Balance;
    public long Consumed;
    public long Overrun;
    public long Used;
    public DateTimeOffset LastUse;
    public DateTimeOffset ExhaustedUntil;
    public bool Recalled;

    public bool TryTake(long units, DateTimeOffset now)
    {
        if (units == 0 ? Balance <= 0 : Balance < units) return false;
        Balance -= units;
        Consumed += units;
        LastUse = now;
        return true;
    }

    public void Spend(long units, DateTimeOffset now)
    {
        var within = Math.Min(units, Balance);
        Balance -= within;
        Consumed += within;
        Overrun += units - within;
        LastUse = now;
    }
}
#pragma warning restore CA1001
