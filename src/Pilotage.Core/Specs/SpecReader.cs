using System.Text;

namespace Pilotage.Core.Specs;

/// <summary>
/// Reads <c>pilotage/v1 AiSystem</c> documents from YAML. It never throws on bad input: every problem
/// becomes a <see cref="SpecError"/> with its field path and position, and all of them are reported in
/// one pass so a person can fix a file in one go. The result holds specs only when there is no error
/// at all (an apply is all or nothing).
/// </summary>
public static class SpecReader
{
    /// <summary>Larger input is refused unread: specs are small, and this bounds parser work.</summary>
    public const long MaxFileBytes = 1024 * 1024;

    /// <summary>Beyond this many errors a file is clearly not a spec; more would only be noise.</summary>
    public const int MaxErrors = 200;

    /// <summary>Reads a YAML text holding one or more documents separated by <c>---</c>.</summary>
    /// <param name="yamlText">The YAML text.</param>
    /// <param name="source">What errors name as their source: a file name, or e.g. "request".</param>
    /// <param name="options">The day relative dates count from, and what apply knows; null: <see cref="SpecReadOptions.Default"/>.</param>
    public static SpecReadResult Read(string yamlText, string source, SpecReadOptions? options = null)
    {
        var session = new SpecReadSession(options);
        session.ReadText(yamlText ?? "", source ?? "");
        return session.Result();
    }

    /// <summary>Reads one file; errors name the file by its name (not its full path).</summary>
    public static SpecReadResult ReadFile(string path, SpecReadOptions? options = null)
    {
        var session = new SpecReadSession(options);
        session.ReadFile(path ?? "");
        return session.Result();
    }

    /// <summary>
    /// Reads a file, or every <c>*.yaml</c>/<c>*.yml</c> file directly in a folder (not its sub-folders),
    /// in name order. System names must be unique across all of them.
    /// </summary>
    public static SpecReadResult ReadPath(string fileOrFolder, SpecReadOptions? options = null)
    {
        var session = new SpecReadSession(options);
        if (Directory.Exists(fileOrFolder))
        {
            string[] files;
            try
            {
                files = Directory.GetFiles(fileOrFolder)
                    .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase)
                                || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                    .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)
                    .ToArray();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                session.Add(new SpecError(fileOrFolder, "", $"cannot list folder: {e.Message}", 0, 0));
                return session.Result();
            }
            if (files.Length == 0)
            {
                session.Add(new SpecError(fileOrFolder, "", "the folder holds no .yaml or .yml file", 0, 0));
            }
            foreach (var file in files)
            {
                session.ReadFile(file);
            }
            return session.Result();
        }
        session.ReadFile(fileOrFolder ?? "");
        return session.Result();
    }

    internal static string TooLarge(long bytes) =>
        $"file is {InputFile.Megabytes(bytes)}; a spec file may be at most 1 MB: split it into one file per system";
}

/// <summary>State of one read call: errors, specs, and the names seen so far across files.</summary>
internal sealed class SpecReadSession(SpecReadOptions? options = null)
{
    public SpecReadOptions Options { get; } = options ?? SpecReadOptions.Default;

    /// <summary>Resolved once, so every document of one apply counts from the same day.</summary>
    public DateOnly Today { get; } = (options ?? SpecReadOptions.Default).TodayOrNow;

    private readonly List<SpecError> errors = [];
    private readonly List<SystemSpec> specs = [];
    private readonly Dictionary<string, (string Source, int Line)> names = new(StringComparer.Ordinal);

    /// <summary>Every error reported, including those dropped beyond <see cref="SpecReader.MaxErrors"/>.</summary>
    public int Reported { get; private set; }

    public void Add(SpecError error)
    {
        Reported++;
        if (errors.Count < SpecReader.MaxErrors)
        {
            errors.Add(error);
        }
        else if (errors.Count == SpecReader.MaxErrors)
        {
            errors.Add(new SpecError(error.Source, "", $"too many errors: only the first {SpecReader.MaxErrors} are shown", 0, 0));
        }
    }

    public SpecReadResult Result() => errors.Count == 0
        ? new SpecReadResult(specs.ToArray(), [])
        : new SpecReadResult([], errors.ToArray());

    /// <summary>Records a system name; returns where it was first defined when it is a duplicate.</summary>
    public (string Source, int Line)? Claim(string name, string source, int line)
    {
        if (names.TryGetValue(name, out var first))
        {
            return first;
        }
        names[name] = (source, line);
        return null;
    }

    public void ReadFile(string path)
    {
        var source = InputFile.SourceName(path);
        if (InputFile.Read(path, SpecReader.MaxFileBytes, SpecReader.TooLarge, text => ReadText(text, source)) is { } problem)
        {
            Add(new SpecError(source, "", problem, 0, 0));
        }
    }

    public void ReadText(string text, string source)
    {
        // Length first: a char is at least one UTF-8 byte, so huge text is refused without a full scan.
        if (text.Length > SpecReader.MaxFileBytes)
        {
            Add(new SpecError(source, "", SpecReader.TooLarge(Encoding.UTF8.GetByteCount(text)), 0, 0));
            return;
        }
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > SpecReader.MaxFileBytes)
        {
            Add(new SpecError(source, "", SpecReader.TooLarge(bytes), 0, 0));
            return;
        }

        var firstError = errors.Count;
        var (documents, loadError) = YamlTreeLoader.Load(text);
        if (loadError is not null)
        {
            Add(new SpecError(source, "", loadError.Message, loadError.Line, loadError.Column));
            return;
        }
        var any = false;
        foreach (var document in documents)
        {
            if (document.Root is null)
            {
                continue; // an empty document, e.g. a trailing '---'
            }
            any = true;
            if (new SpecDocumentReader(this, source).Read(document.Root) is { } spec)
            {
                specs.Add(spec);
            }
        }
        if (!any)
        {
            Add(new SpecError(source, "", "the file holds no YAML document: expected an apiVersion: pilotage/v1, kind: AiSystem document", 0, 0));
        }
        // Validation visits fields in schema order; people read a file top to bottom.
        var mine = errors.Skip(firstError).Where(e => e.Line > 0).OrderBy(e => e.Line).ThenBy(e => e.Column).ToList();
        var rest = errors.Skip(firstError).Where(e => e.Line <= 0).ToList();
        errors.RemoveRange(firstError, errors.Count - firstError);
        errors.AddRange(mine);
        errors.AddRange(rest);
    }
}
