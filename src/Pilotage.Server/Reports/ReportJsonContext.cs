using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Reports;

/// <summary>
/// The report's JSON: camelCase, indented with "\n" line ends on every platform, nulls written (the
/// shape does not depend on the evidence), declaration order. Source-generated, no reflection.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, NewLine = "\n", UseStringEnumConverter = true)]
[JsonSerializable(typeof(EvidenceReport))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
