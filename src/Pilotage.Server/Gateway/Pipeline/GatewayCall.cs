using System.Diagnostics;
using System.Text.Json.Nodes;
using Pilotage.Core.Evidence;
using Pilotage.Core.Gateway;
using Pilotage.Core.Specs;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>What a governed call asks of the model, as its evidence record names it.</summary>
internal enum GatewayOperation { Chat, Embeddings }

/// <summary>A request as it arrived: its interaction id, what it asks for, and when.</summary>
internal sealed record Arrival(string Id, GatewayOperation Operation, DateTimeOffset At)
{
    private readonly long _started = Stopwatch.GetTimestamp();

    public string Endpoint => Operation == GatewayOperation.Chat ? InteractionEndpointNames.Chat : InteractionEndpointNames.Embeddings;
    public double ElapsedMs => Stopwatch.GetElapsedTime(_started).TotalMilliseconds;
}

/// <summary>A request's mark as a test case of an evaluation run (header <c>x-pilotage-eval</c>).</summary>
public sealed record EvalMark(long Run, string Case, string Category);

/// <summary>
/// Who asks which system, and under which scope once it is decided: built up stage by stage with
/// <c>with</c>, never changed in place. The system is unknown only while the body is unread (a request shed for load).
/// </summary>
internal sealed record Subject(Arrival Arrival, KeyGrant Key, GatewaySystem? System = null, ServingScope? Scope = null, EvalMark? Eval = null)
{
    public string Id => Arrival.Id;
    public string Mode => Scope?.Mode.ToWire() ?? InteractionModes.None;
    /// <summary>The system's spec; only read once the system is resolved.</summary>
    public SystemSpec Spec => System!.State.Spec;
    public string? Slug => System?.State.Slug;
}

/// <summary>
/// A client's request in the common model (an OpenAI chat-completions or embeddings body) plus what the
/// client asked of the answer's form. Built by a protocol adapter; the body is only read after the boundary.
/// </summary>
/// <param name="Stream">The client asked for a stream.</param>
/// <param name="WantsUsage">A streamed chat client asked for the usage chunk (<c>stream_options.include_usage</c>).</param>
/// <param name="Context">What the adapter needs again to render the answer (the Responses API's conversation, say).</param>
/// <param name="Native">For a client of the upstream's own protocol (other than chat completions, whose body is the
/// common model): the client's body itself, which is what is sent, with only what policy controls rewritten (see
/// <see cref="NativeConfiguration"/>). <see cref="Body"/> is then its reading in the common model, for the evidence and
/// the checks. Null when the request is translated.</param>
/// <param name="Received">For a chat-completions client: the parsed body that <see cref="Body"/> reads, which no stage
/// changes unless the boundary redacts; the body sent is then written from it (<see cref="ConfiguredChatBody"/>).</param>
internal sealed record ClientRequest(string Model, JsonObject Body, bool Stream, bool WantsUsage = false, object? Context = null, JsonObject? Native = null, System.Text.Json.JsonElement? Received = null);

/// <summary>A request that passed admission: immutable; it holds its places in flight until disposed.</summary>
internal sealed record AdmittedRequest(Subject Subject, ClientRequest Request, GatewayAdmission Places) : IDisposable
{
    public ServingScope Scope => Subject.Scope!;
    public GatewaySystem System => Subject.System!;
    public string Id => Subject.Id;
    public void Dispose() => Places.Dispose();

    /// <summary>
    /// The request once sent, for the rest of a streamed answer: without the parsed bodies, which nothing reads again
    /// (the evidence keeps the bytes sent). Held for the seconds an answer streams, the JSON trees were the largest part
    /// of what each open answer kept alive, and what the garbage collector copied at every collection (docs/scaling.md).
    /// </summary>
    public AdmittedRequest Sent() => this with { Request = Request with { Body = [], Native = null, Received = null } };
}

/// <summary>
/// What happened on the way to the model and back: the facts the evidence record keeps beyond who and what.
/// Each stage returns a new one with what it learnt.
/// </summary>
internal sealed record Exchange
{
    public static readonly Exchange None = new();

    /// <summary>
    /// What the boundary found, as the evidence records it (<see cref="InteractionRecorder.DetectorHits"/>); null when it
    /// found nothing. Written when the request is scanned, so that a streamed answer does not hold the scan's hits for
    /// its length.
    /// </summary>
    public string? DetectorHits { get; init; }
    /// <summary>The body sent upstream, serialised once as UTF-8.</summary>
    public byte[]? Sent { get; init; }
    public bool Streamed { get; init; }
    public int TokensIn { get; init; }
    public int TokensOut { get; init; }
    public double? FirstByteMs { get; init; }
    public int? UpstreamStatus { get; init; }
    /// <summary>The answer's text; when <see cref="ResponseBytes"/> holds it, decoded from them each time it is read (the
    /// evidence record takes the bytes, see <see cref="InteractionRecorder.Row"/>: only a held answer reads its text).</summary>
    public string? ResponseText
    {
        get => _responseText ?? (ResponseBytes is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null);
        init => _responseText = value;
    }

    private readonly string? _responseText;

    /// <summary>The answer's UTF-8 (as received whole, or a streamed answer's text encoded), kept only when valid (so it hashes exactly like <see cref="ResponseText"/>).</summary>
    public byte[]? ResponseBytes { get; init; }

    // Valid UTF-8 decodes and re-encodes to the same bytes, so their hash and their stored text are the text's.
    public Exchange WithResponse(byte[] bytes) => System.Text.Unicode.Utf8.IsValid(bytes)
        ? this with { ResponseText = null, ResponseBytes = bytes }
        : this with { ResponseText = System.Text.Encoding.UTF8.GetString(bytes), ResponseBytes = null };

    public Exchange WithText(string? text) => this with { ResponseText = text, ResponseBytes = null };
}

/// <summary>How a refused request is recorded: a refusal before a system is known has no record.</summary>
internal enum RefusalRecord
{
    /// <summary>Before the system is known (bad key, bad body, unknown model): answered, not recorded.</summary>
    None,
    /// <summary>Refused before anything reached the model: recorded without waiting for the commit.</summary>
    Refused,
    /// <summary>Refused after the model answered (read-only mode): recorded durably.</summary>
    RefusedAfterAnswer,
    /// <summary>The upstream or the gateway failed: recorded durably with the detail.</summary>
    Failed,
    /// <summary>The client went away: recorded as failed, and nothing is answered.</summary>
    Abandoned,
}

/// <summary>A stage's typed refusal: what the caller is told (in its protocol) and how it is recorded.</summary>
internal sealed record Refusal(GatewayRefusal Error, RefusalRecord Record, string? RetryAfter = null, bool CloseConnection = false, string? Detail = null)
{
    public static Refusal Rejected(int status, string code, string message) => new(new GatewayRefusal(status, code, message), RefusalRecord.None);
    public static Refusal Refused(GatewayRefusal error, string? retryAfter = null) => new(error, RefusalRecord.Refused, retryAfter);
    public static Refusal Failed(GatewayRefusal error, string? detail = null) => new(error, RefusalRecord.Failed, Detail: detail ?? error.Message);
    public static Refusal Abandoned(string detail) => new(new GatewayRefusal(499, "client_disconnected", detail), RefusalRecord.Abandoned, Detail: detail);

    /// <summary>Refused for load before the body was read: Retry-After, and the connection closes rather than drain an unread body.</summary>
    public static Refusal Shed(GatewayRefusal error) => new(error, RefusalRecord.Refused, "1", CloseConnection: true);
}

/// <summary>A stage's result: the value it passes on, or its refusal.</summary>
internal readonly record struct Step<T>(T? Value, Refusal? Refusal) where T : class
{
    public static implicit operator Step<T>(T value) => new(value, null);
    public static implicit operator Step<T>(Refusal refusal) => new(null, refusal);
}
