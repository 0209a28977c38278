using Xunit;

namespace Pilotage.Testing;

/// <summary>
/// Decides whether PostgreSQL-backed tests run. They need <c>PILOTAGE_TEST_POSTGRES</c>
/// (a <c>Host=…</c> connection string, set by <c>.ci/run</c>). Without it they are skipped
/// locally, but under <c>CI=true</c> they run and fail loudly instead of silently skipping.
/// </summary>
internal static class PostgresTestGate
{
    public const string SkipReason =
        "PostgreSQL tests need PILOTAGE_TEST_POSTGRES (a Host=… connection string); .ci/run starts a server and sets it";

    public static string? SkipReasonOrNull()
    {
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(PostgresDatabase.EnvironmentVariable)))
        {
            return null;
        }

        return IsCi() ? null : SkipReason;
    }

    private static bool IsCi()
    {
        var ci = Environment.GetEnvironmentVariable("CI");
        return string.Equals(ci, "true", StringComparison.OrdinalIgnoreCase) || ci == "1";
    }
}

/// <summary>A <see cref="FactAttribute"/> for tests that need a PostgreSQL server (see <see cref="PostgresDatabase"/>).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        var reason = PostgresTestGate.SkipReasonOrNull();
        if (reason is not null)
        {
            Skip = reason;
        }
    }
}

/// <summary>A <see cref="TheoryAttribute"/> for tests that need a PostgreSQL server (see <see cref="PostgresDatabase"/>).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute()
    {
        var reason = PostgresTestGate.SkipReasonOrNull();
        if (reason is not null)
        {
            Skip = reason;
        }
    }
}
