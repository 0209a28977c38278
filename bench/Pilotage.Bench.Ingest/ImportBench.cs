using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;

namespace Pilotage.Bench.Ingest;

/// <summary>
/// The bulk import path: N evidence rows as CSV files of <see cref="RowsPerFile"/> rows (well under the
/// 25 MB file limit) posted to <c>POST /api/v1/systems/{slug}/import</c> one after the other, timed from
/// the first request to the last answer; then every row is counted back.
/// </summary>
internal static class ImportBench
{
    public const int RowsPerFile = 100_000;

    public static async Task RunAsync(string label, Func<string, Task<string>> createDatabase, Func<Task> dropDatabases, int rows, int warmup = 0)
    {
        try
        {
            var database = await createDatabase("import");
            await using var server = await BenchServer.StartAsync(database);
            using var admin = server.Admin();
            // Rows numbered after the measured ones, so none of the measured rows is already there.
            for (var first = rows; first < rows + warmup; first += RowsPerFile)
            {
                await PostAsync(admin, Csv(first, Math.Min(RowsPerFile, rows + warmup - first)));
            }
            var files = new List<byte[]>();
            for (var first = 0; first < rows; first += RowsPerFile) files.Add(Csv(first, Math.Min(RowsPerFile, rows - first)));
            var serverCpu = ServerCpu.For(database);
            var serverStart = serverCpu is null ? null : await serverCpu.SampleAsync();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            using var promotions = new GcPromotions();
            var gcBefore = (Gen0: GC.CollectionCount(0), Gen1: GC.CollectionCount(1), Gen2: GC.CollectionCount(2), Pause: GC.GetTotalPauseDuration(), Allocated: GC.GetTotalAllocatedBytes(), FromGen0: promotions.FromGen0, FromGen1: promotions.FromGen1);
            var clock = Stopwatch.StartNew();
            var imported = 0L;
            var perFile = new List<double>();
            var cpuPerFile = new List<double>();
            var serverPerFile = new List<double>();
            foreach (var file in files)
            {
                var fileClock = Stopwatch.StartNew();
                var fileCpu = Process.GetCurrentProcess().TotalProcessorTime;
                var fileServer = serverCpu is null ? null : await serverCpu.SampleAsync();
                using var json = await PostAsync(admin, file);
                imported += json.RootElement.GetProperty("imported").GetInt64();
                var fileRows = json.RootElement.GetProperty("rows").GetInt64();
                perFile.Add(fileRows / fileClock.Elapsed.TotalSeconds);
                cpuPerFile.Add((Process.GetCurrentProcess().TotalProcessorTime - fileCpu).TotalSeconds / fileRows * 1000);
                if (serverCpu is not null) serverPerFile.Add(ServerCpu.Between(fileServer!, await serverCpu.SampleAsync()) / fileRows * 1000);
            }
            clock.Stop();
            var cpuUsed = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            var serverUsed = serverCpu is null ? (double?)null : ServerCpu.Between(serverStart!, await serverCpu.SampleAsync());
            long stored;
            await using (var db = server.Store.CreateDbContext())
            {
                stored = await db.Interactions.LongCountAsync(i => i.System == BenchServer.Slug);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label}: IMPORT {rows:N0} rows in {files.Count} CSV files of up to {RowsPerFile:N0}: {clock.Elapsed.TotalSeconds:0.0} s = {rows / clock.Elapsed.TotalSeconds:N0} rows/s; imported {imported:N0}, stored {stored:N0}{(warmup > 0 ? $" (with {warmup:N0} imported first, untimed)" : "")}; process CPU {cpuUsed:0.0} s = {cpuUsed / clock.Elapsed.TotalSeconds:0.00} cores = {cpuUsed / rows * 1000:0.0000} CPU s per 1,000 rows; peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1024 / 1024:N0} MB"));
            // Whether the rate holds as the tables grow: file by file (the last one may be short).
            Console.WriteLine($"{label}: rows/s per file: {string.Join(" ", perFile.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))}");
            // CPU time is far less sensitive than rows/s to other work on a shared machine; the first file also pays for JIT.
            Console.WriteLine($"{label}: process CPU s per 1,000 rows, per file: {string.Join(" ", cpuPerFile.Select(c => c.ToString("0.0000", CultureInfo.InvariantCulture)))}");
            // The process's garbage collections over the timed files: what a row allocates, and what collecting costs.
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label}: GC: allocated {(GC.GetTotalAllocatedBytes() - gcBefore.Allocated) / (double)rows / 1024:0.00} KB per row; kept alive by collections {(promotions.FromGen0 - gcBefore.FromGen0) / (double)rows / 1024:0.00} KB per row out of gen0, {(promotions.FromGen1 - gcBefore.FromGen1) / (double)rows / 1024:0.00} KB out of gen1; collections gen0 {GC.CollectionCount(0) - gcBefore.Gen0}, gen1 {GC.CollectionCount(1) - gcBefore.Gen1}, gen2 {GC.CollectionCount(2) - gcBefore.Gen2}; paused {(GC.GetTotalPauseDuration() - gcBefore.Pause).TotalSeconds:0.00} s = {(GC.GetTotalPauseDuration() - gcBefore.Pause).TotalMilliseconds / rows * 1000:0.0} ms per 1,000 rows"));
            if (serverUsed is { } serverSeconds)
            {
                // PostgreSQL's backends for this database (ServerCpu): with the process's CPU, what a row costs in all.
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{label}: server CPU {serverSeconds:0.0} s = {serverSeconds / rows * 1000:0.0000} CPU s per 1,000 rows; process + server {(cpuUsed + serverSeconds) / rows * 1000:0.0000} CPU s per 1,000 rows"));
                Console.WriteLine($"{label}: server CPU s per 1,000 rows, per file: {string.Join(" ", serverPerFile.Select(c => c.ToString("0.0000", CultureInfo.InvariantCulture)))}");
            }
        }
        finally
        {
            await dropDatabases();
        }
    }

    private static async Task<System.Text.Json.JsonDocument> PostAsync(HttpClient admin, byte[] file)
    {
        using var content = new ByteArrayContent(file);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/csv");
        using var response = await admin.PostAsync($"/api/v1/systems/{BenchServer.Slug}/import", content);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"import: {(int)response.StatusCode} {body}");
        return System.Text.Json.JsonDocument.Parse(body);
    }

    /// <summary>Rows first … first+count−1, spread over the last 90 days, 60 % reviewed, 30 % rated, from 500 users.</summary>
    private static byte[] Csv(int first, int count)
    {
        var start = DateTimeOffset.UtcNow.AddDays(-90);
        string[] outcomes = ["accepted", "accepted", "accepted", "edited", "rejected", "", "", "", "", ""];
        string[] categories = ["normal", "edge", "unclear", "", ""];
        var csv = new StringBuilder(count * 220);
        csv.Append("timestamp,user,prompt,answer,outcome,final_text,review_seconds,rating,category\n");
        for (var i = first; i < first + count; i++)
        {
            var at = start.AddSeconds(i * 7L % (90 * 86400));
            var outcome = outcomes[i % outcomes.Length];
            csv.Append(at.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Append(',')
                .Append("user").Append(i % 500).Append("@example.org,")
                .Append("Customer ").Append(i).Append(" asks where their parcel is; order ").Append(i * 31 % 99991).Append(',')
                .Append("\"Hello, thank you for writing. Your order ").Append(i * 31 % 99991).Append(" left our warehouse and arrives within two days.\",")
                .Append(outcome).Append(',')
                .Append(outcome == "edited" ? "\"Hello, your order arrives tomorrow.\"" : "").Append(',')
                .Append(outcome == "" ? "" : (i % 90).ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(i % 3 == 0 ? (1 + i % 5).ToString(CultureInfo.InvariantCulture) : "").Append(',')
                .Append(categories[i % categories.Length]).Append('\n');
        }
        return Encoding.UTF8.GetBytes(csv.ToString());
    }
}
