using Xunit;

namespace Pilotage.Testing;

/// <summary>
/// Decides whether the Node client tests run: they need <c>tests/node-clients/node_modules</c>, which
/// <c>.ci/run</c> installs with <c>npm ci</c>. Without it they are skipped locally, but under <c>CI=true</c> they
/// run and fail loudly instead, so CI can never pass by skipping them.
/// </summary>
public static class NodeClientsGate
{
    public static string Folder => Path.Combine(RepoPaths.Root, "tests", "node-clients");

    public const string SkipReason =
        "the Node client tests need tests/node-clients/node_modules: run 'npm ci' in tests/node-clients (.ci/run does)";

    public static string? SkipReasonOrNull()
    {
        if (Directory.Exists(Path.Combine(Folder, "node_modules"))) return null;
        var ci = Environment.GetEnvironmentVariable("CI");
        return string.Equals(ci, "true", StringComparison.OrdinalIgnoreCase) || ci == "1" ? null : SkipReason;
    }
}

/// <summary>A <see cref="TheoryAttribute"/> for tests that run the Node clients (see <see cref="NodeClientsGate"/>).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class NodeClientsTheoryAttribute : TheoryAttribute
{
    public NodeClientsTheoryAttribute()
    {
        if (NodeClientsGate.SkipReasonOrNull() is { } reason) Skip = reason;
    }
}
