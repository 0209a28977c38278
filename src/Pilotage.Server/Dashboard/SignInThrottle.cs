using System.Threading.RateLimiting;

namespace Pilotage.Server.Dashboard;

/// <summary>
/// Slows down guessing keys on the sign-in form: each failed sign-in takes a permit from a fixed
/// window per client address (the ASP.NET Core rate limiting primitives); once none is left, the
/// form answers 429 until the window ends. Successful sign-ins cost nothing, so a team behind one
/// address is not locked out by its own use.
/// </summary>
public sealed class SignInThrottle : IDisposable
{
    public const int FailuresPerWindow = 5;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    private readonly PartitionedRateLimiter<string> _failures = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = FailuresPerWindow,
            Window = Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public static string AddressOf(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>True when this address has used up its failed attempts for now.</summary>
    public bool Blocked(string address) => _failures.GetStatistics(address)?.CurrentAvailablePermits <= 0;

    public void Failed(string address)
    {
        using var lease = _failures.AttemptAcquire(address);
    }

    public void Dispose() => _failures.Dispose();
}
