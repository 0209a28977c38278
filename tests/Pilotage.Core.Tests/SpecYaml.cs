namespace Pilotage.Core.Tests;

/// <summary>A minimal valid spec whose line numbers the reader tests rely on.</summary>
internal static class SpecYaml
{
    // Line numbers matter: 1 apiVersion, 2 kind, 3 metadata, 4 name, 5 spec, 6 owner, 7 purpose,
    // 8 upstream, 9 baseUrl, 10 model. Text appended by a test starts at line 11 inside `spec`
    // (or inside `upstream` when indented by four spaces).
    public const string Minimal = """
        apiVersion: pilotage/v1
        kind: AiSystem
        metadata:
          name: demo-system
        spec:
          owner: dana@example.org
          purpose: Test the reader
          upstream:
            baseUrl: http://127.0.0.1:11434/v1
            model: llama3.1

        """;

    public static string With(string extra) => Minimal + extra.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";

    /// <summary>The minimal spec with one line (1-based) replaced, or removed when <paramref name="text"/> is null.</summary>
    public static string Replacing(int line, string? text)
    {
        var lines = Minimal.Split('\n').ToList();
        if (text is null)
        {
            lines.RemoveAt(line - 1);
        }
        else
        {
            lines[line - 1] = text;
        }
        return string.Join('\n', lines);
    }
}
