using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Core.Import;
using Pilotage.Server.Import;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Import;

/// <summary>
/// An imported row's id and hashes are kept as bytes and written as text straight into the database's buffer; the
/// text stored must be exactly the id of <see cref="EvidenceCsv.InteractionId(string, EvidenceRecord)"/>, pinned here
/// for a known row (computed independently from the documented definition), so a re-post stays idempotent.
/// </summary>
public sealed class ImportIdTests
{
    private const string System = "support-bot";
    private const string Header = "prompt,answer,outcome,review_seconds,rating,timestamp,user";
    private const string Line = "Where is my order? é 😀,It ships Monday.,accepted,30,4,2026-03-01T09:30:15.1234567Z,ana@example.com";
    private const string PinnedId = "int_019ca8bbf0d3b5e216b23fe00e5a5011fde6";
    private const string PromptHash = "d8efe6509eab75bfbaa77863f888a9136a8b7d8aa808be2701531ab44c83ab01";
    private const string AnswerHash = "43d900a16862eb17b973d97caf9e580dcf56d51d36c3431921e26999c75afec0";

    [Fact]
    public void A_known_rows_id_and_hashes_are_pinned_and_the_byte_form_writes_the_same_text()
    {
        var record = KnownRecord();
        Assert.Equal(PinnedId, EvidenceCsv.InteractionId(System, record));
        Span<byte> hash = stackalloc byte[32];
        var id = new ImportId(EvidenceCsv.InteractionIdParts(System, record, null, hash), hash);
        Assert.Equal(PinnedId, id.ToString());
        Assert.Equal(PinnedId, Encoding.ASCII.GetString(id.Write(stackalloc byte[ImportId.Length])));
        Span<byte> hex = stackalloc byte[64];
        var prompt = Sha256Value.Of(record.Prompt);
        Hex.Write(prompt, hex);
        Assert.Equal(PromptHash, Encoding.ASCII.GetString(hex));
        var answer = Sha256Value.Of(record.Answer);
        Hex.Write(answer, hex);
        Assert.Equal(AnswerHash, Encoding.ASCII.GetString(hex));
    }

    [Fact]
    public void Ids_as_values_equal_compare_and_print_as_their_text_does()
    {
        var text = new StringBuilder("prompt,answer,timestamp,user\n");
        var start = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        // Rows sharing milliseconds, rows before 1970 (time 0), rows far apart: the hash alone orders many of them.
        for (var i = 0; i < 400; i++)
        {
            var at = i % 10 == 0 ? new DateTimeOffset(1960, 1, 1, 0, 0, 0, TimeSpan.Zero) : start.AddMilliseconds(i % 7 * 1000 + i % 3).AddDays(-(i % 5) * 400);
            text.Append(CultureInfo.InvariantCulture, $"question {i % 50},answer {i % 9},{at:yyyy-MM-dd'T'HH:mm:ss.fff'Z'},u{i % 4}@example.org\n");
        }
        var records = EvidenceFileReader.Open(Encoding.UTF8.GetBytes(text.ToString()), start).Rows().ToList();
        Assert.Equal(400, records.Count);
        var pairs = records.Select(r =>
        {
            Span<byte> hash = stackalloc byte[32];
            return (Text: EvidenceCsv.InteractionId(System, r), Value: new ImportId(EvidenceCsv.InteractionIdParts(System, r, null, hash), hash));
        }).ToList();
        foreach (var (a, va) in pairs)
        {
            Assert.Equal(a, va.ToString());
            foreach (var (b, vb) in pairs.Take(60))
            {
                Assert.Equal(Math.Sign(string.CompareOrdinal(a, b)), Math.Sign(va.CompareTo(vb)));
                Assert.Equal(a == b, va.Equals(vb));
                if (a == b) Assert.Equal(va.GetHashCode(), vb.GetHashCode());
            }
        }
    }

    [Fact]
    public Task On_SQLite_the_known_row_is_stored_under_its_pinned_id_and_hashes() => StoredUnderPinnedIdAsync(null);

    [PostgresFact]
    public async Task On_PostgreSQL_the_known_row_is_stored_under_its_pinned_id_and_hashes()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await StoredUnderPinnedIdAsync(database.ConnectionString);
    }

    private static async Task StoredUnderPinnedIdAsync(string? database)
    {
        await using var server = await PilotageTestServer.StartAsync(database);
        await ImportTestSupport.SystemAsync(server, System);
        var first = await ImportTestSupport.ImportAsync(server, System, Header, [Line]);
        Assert.Equal(1, first.GetProperty("imported").GetInt32());
        var again = await ImportTestSupport.ImportAsync(server, System, Header, [Line]);
        Assert.Equal((0, 1), (again.GetProperty("imported").GetInt32(), again.GetProperty("alreadyPresent").GetInt32()));

        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var row = await db.Interactions.AsNoTracking().SingleAsync(i => i.System == System);
        Assert.Equal((PinnedId, PromptHash, AnswerHash), (row.Id, row.RequestHash, row.ResponseHash));
        Assert.Equal(("ana@example.com", "", "[]", "chat", "import", "served"), (row.UserEmail, row.KeyId, row.Groups, row.Endpoint, row.Mode, row.Outcome));
        Assert.Equal((false, 0, 0, 0m, (double?)null, 0.0, (int?)null, (long?)null), (row.Streamed, row.TokensIn, row.TokensOut, row.Cost, row.FirstByteMs, row.TotalMs, row.UpstreamStatus, row.EvalRun));
        Assert.Equal(KnownRecord().Prompt, row.RequestContent);
        var review = await db.Reviews.AsNoTracking().SingleAsync(r => r.System == System);
        Assert.Equal((PinnedId, "accepted", "ana@example.com", 30.0, "import"), (review.InteractionId, review.Outcome, review.Reviewer, review.Seconds, review.Source));
        var feedback = await db.Feedback.AsNoTracking().SingleAsync(f => f.System == System);
        Assert.Equal((PinnedId, 4), (feedback.InteractionId, feedback.Rating));
    }

    [Fact]
    public Task On_SQLite_long_texts_past_the_slices_buffer_read_back_exactly() => LongTextsReadBackAsync(null);

    [PostgresFact]
    public async Task On_PostgreSQL_long_texts_past_the_copy_buffer_read_back_exactly()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await LongTextsReadBackAsync(database.ConnectionString);
    }

    // Texts are kept in UTF-8 in one buffer per slice (1 MB to start, grown when full) and a value larger than the
    // COPY's 64 KB buffer is written through: five answers of 400 K characters, most of two bytes or more, pass both.
    private static async Task LongTextsReadBackAsync(string? database)
    {
        await using var server = await PilotageTestServer.StartAsync(database);
        await ImportTestSupport.SystemAsync(server, "long-texts");
        var answers = Enumerable.Range(0, 5).Select(i => $"answer {i} " + string.Concat(Enumerable.Repeat("é中😀 ", 100_000))).ToList();
        var lines = answers.Select((a, i) => $"prompt {i},{a},2026-03-0{i + 1}T09:00:00Z,").Append("short,x,2026-03-09T09:00:00Z,").ToList();
        var imported = await ImportTestSupport.ImportAsync(server, "long-texts", "prompt,answer,timestamp,user", lines);
        Assert.Equal(6, imported.GetProperty("imported").GetInt32());

        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var rows = (await db.Interactions.AsNoTracking().Where(i => i.System == "long-texts").ToListAsync()).OrderBy(i => i.CreatedAt).ToList();
        Assert.Equal([.. Enumerable.Range(0, 5).Select(i => $"prompt {i}"), "short"], rows.Select(r => r.RequestContent));
        Assert.Equal([.. answers, "x"], rows.Select(r => r.ResponseContent));
        Assert.All(rows, r => Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(r.ResponseContent!))), r.ResponseHash));
    }

    private static EvidenceRecord KnownRecord() =>
        EvidenceFileReader.Open(Encoding.UTF8.GetBytes(Header + "\n" + Line + "\n"), DateTimeOffset.UtcNow).Rows().Single();
}
