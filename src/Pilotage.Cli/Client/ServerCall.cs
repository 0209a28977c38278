using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Pilotage.Cli.Client;

/// <summary>
/// One verb's conversation with the control API: the client for the server and key the command line,
/// the environment or the credentials file give (<see cref="CliContext.Call"/>), the requests, and the
/// answer printed either as the server sent it (<c>--json</c>) or as the verb's table or sentence.
/// A refused or failed request throws the client's <see cref="CliException"/>: one <c>error:</c> line
/// and exit code 1, whichever verb made it (see <see cref="ControlClient"/>).
/// </summary>
internal sealed class ServerCall(ControlClient client, Output output, bool json, CancellationToken cancellation) : IDisposable
{
    private string _last = "the request";

    public ControlClient Client { get; } = client;

    /// <summary>True with <c>--json</c>: the answer is printed as the server sent it.</summary>
    public bool Json { get; } = json;

    public Output Output { get; } = output;

    public CancellationToken Cancellation { get; } = cancellation;

    public Task<JsonElement> GetAsync(string path)
    {
        _last = $"GET /{path}";
        return Client.GetAsync(path, Cancellation);
    }

    /// <summary>A request without a body (DELETE, or a POST whose path says it all).</summary>
    public Task<JsonElement> SendAsync(HttpMethod method, string path)
    {
        _last = $"{method} /{path}";
        return Client.SendAsync(method, path, null, Cancellation);
    }

    public Task<JsonElement> SendAsync<T>(HttpMethod method, string path, T body, JsonTypeInfo<T> type)
    {
        _last = $"{method} /{path}";
        return Client.SendJsonAsync(method, path, body, type, Cancellation);
    }

    /// <summary>A body written by hand, for requests whose fields are sent only when given.</summary>
    public Task<JsonElement> SendAsync(HttpMethod method, string path, Action<Utf8JsonWriter> write)
    {
        _last = $"{method} /{path}";
        return Client.SendJsonAsync(method, path, write, Cancellation);
    }

    public Task<JsonElement> SendAsync(HttpMethod method, string path, HttpContent content)
    {
        _last = $"{method} /{path}";
        return Client.SendAsync(method, path, content, Cancellation);
    }

    /// <summary>A response streamed rather than held in memory (a report, the audit export); the caller disposes it.</summary>
    public Task<HttpResponseMessage> OpenStreamAsync(string path)
    {
        _last = $"GET /{path}";
        return Client.OpenStreamAsync(path, Cancellation);
    }

    /// <summary>The answer as JSON with <c>--json</c>; otherwise read as <typeparamref name="T"/> and shown by <paramref name="show"/>.</summary>
    public int Show<T>(JsonElement answer, JsonTypeInfo<T> type, Action<T> show)
    {
        if (Json) return PrintJson(answer);
        show(Read(answer, type));
        return ExitCodes.Ok;
    }

    /// <summary>As <see cref="Show{T}(JsonElement, JsonTypeInfo{T}, Action{T})"/>, for views that ask the server for more.</summary>
    public async Task<int> ShowAsync<T>(JsonElement answer, JsonTypeInfo<T> type, Func<T, Task> show)
    {
        if (Json) return PrintJson(answer);
        await show(Read(answer, type));
        return ExitCodes.Ok;
    }

    /// <summary>The answer as JSON with <c>--json</c>; otherwise the one line <paramref name="line"/> makes of it.</summary>
    public int ShowLine<T>(JsonElement answer, JsonTypeInfo<T> type, Func<T, string> line) =>
        Show(answer, type, view => Output.Line(line(view)));

    /// <summary>For answers a verb reads field by field rather than as a shared record.</summary>
    public int Show(JsonElement answer, Action<JsonElement> show)
    {
        if (Json) return PrintJson(answer);
        show(answer);
        return ExitCodes.Ok;
    }

    /// <summary>A list answer as JSON with <c>--json</c>; otherwise a table of one row per item, or <paramref name="empty"/>.</summary>
    public int Table<T>(JsonElement answer, JsonTypeInfo<IReadOnlyList<T>> type, IReadOnlyList<string> headers, Func<T, IReadOnlyList<string>> row, string empty)
    {
        if (Json) return PrintJson(answer);
        var items = answer.ValueKind == JsonValueKind.Null ? [] : Read(answer, type);
        Output.Table(headers, items.Select(row).ToList(), empty);
        return ExitCodes.Ok;
    }

    /// <summary>The answer as <typeparamref name="T"/>; an empty or null answer is the server's fault, said so in one line.</summary>
    public T Read<T>(JsonElement answer, JsonTypeInfo<T> type) =>
        answer.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null
            ? throw Empty()
            : answer.Deserialize(type) ?? throw Empty();

    private CliException Empty() => new($"the server at {Client.ServerText} sent an empty answer to {_last}");

    private int PrintJson(JsonElement answer)
    {
        Output.Json(answer);
        return ExitCodes.Ok;
    }

    public void Dispose() => Client.Dispose();
}
