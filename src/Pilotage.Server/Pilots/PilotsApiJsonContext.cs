using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Pilots;

/// <summary>Source-generated serialization of the control API payloads for evaluation runs (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(StartEvalRequest))]
[JsonSerializable(typeof(EvalResultsRequest))]
[JsonSerializable(typeof(FinishEvalRequest))]
[JsonSerializable(typeof(EvalRunView))]
[JsonSerializable(typeof(IReadOnlyList<EvalRunView>))]
[JsonSerializable(typeof(EvalRunDetail))]
public sealed partial class PilotsApiJsonContext : JsonSerializerContext;
