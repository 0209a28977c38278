using Xunit;

namespace Pilotage.Testing;

/// <summary>
/// Decides whether browser tests run. They drive the system's Chromium (<see cref="ExecutablePath"/>)
/// through Microsoft.Playwright, which ships its own driver: no browser is ever downloaded. Without
/// Chromium they are skipped locally, but under <c>CI=true</c> they run and fail loudly instead.
/// </summary>
public static class ChromiumGate
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>Flags for a sandboxed, offline, headless run.</summary>
    public static IReadOnlyList<string> Args { get; } =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    public const string SkipReason =
        "browser tests need Chromium at /usr/bin/chromium (Debian: apt-get install chromium); .ci/run installs it";

    public static string? SkipReasonOrNull()
    {
        if (File.Exists(ExecutablePath)) return null;
        var ci = Environment.GetEnvironmentVariable("CI");
        return string.Equals(ci, "true", StringComparison.OrdinalIgnoreCase) || ci == "1" ? null : SkipReason;
    }
}

/// <summary>A <see cref="FactAttribute"/> for tests that open pages in headless Chromium (see <see cref="ChromiumGate"/>).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        var reason = ChromiumGate.SkipReasonOrNull();
        if (reason is not null)
        {
            Skip = reason;
        }
    }
}
