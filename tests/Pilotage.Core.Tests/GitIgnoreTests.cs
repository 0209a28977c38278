using System.Diagnostics;

namespace Pilotage.Core.Tests;

/// <summary>What running Pilotage from a checkout leaves behind never shows up as a change to commit.</summary>
public sealed class GitIgnoreTests
{
    [Theory]
    [InlineData("pilotage.db")]
    [InlineData("pilotage.db-wal")]
    [InlineData("pilotage.db-shm")]
    [InlineData("pilotage.db-journal")]
    [InlineData("pilotage.db.evidence-spool")]
    [InlineData("support-reply-drafts-report.html")]
    [InlineData("support-reply-drafts-report.md")]
    [InlineData("support-reply-drafts-report.json")]
    [InlineData("examples/pilotage.db")]
    [InlineData("pilotage-demo/pilotage.db")]
    [InlineData("pilotage-demo/support-reply-drafts-report.html")]
    [InlineData(".pilotage/bin/pilotage.dll")]
    public void Runtime_files_are_ignored(string path) => Assert.True(CheckIgnore(path), $"{path} is not ignored by .gitignore");

    [Theory]
    [InlineData("README.md")]
    [InlineData("docs/report.md")]
    [InlineData("examples/support-reply-drafts.yaml")]
    [InlineData("src/Pilotage.Server/Reports/ReportRenderer.cs")]
    public void Sources_are_not_ignored(string path) => Assert.False(CheckIgnore(path), $"{path} is ignored by .gitignore");

    /// <summary><c>git check-ignore --no-index</c>: git's own reading of .gitignore, whether or not the path exists.</summary>
    private static bool CheckIgnore(string path)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = RepoPaths.Root(), RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "check-ignore", "--no-index", "-q", path }) start.ArgumentList.Add(arg);
        using var git = Process.Start(start)!;
        var error = git.StandardError.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode is 0 or 1, $"git check-ignore failed ({git.ExitCode}): {error}");
        return git.ExitCode == 0;
    }
}
