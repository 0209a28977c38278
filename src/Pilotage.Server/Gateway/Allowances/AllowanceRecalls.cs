using Npgsql;

namespace Pilotage.Server.Gateway.Allowances;

/// <summary>
/// Listens for other replicas asking for a limit's slices back (<see cref="AllowanceStore.RecallChannel"/>) on
/// its own unpooled connection, reconnecting with backoff. A lost message costs only time: idle slices go
/// back at the next tick anyway.
/// </summary>
internal sealed class AllowanceRecalls(AllowanceStore store, Action<string> onRecall, TimeProvider time, ILogger logger)
{
    public async Task ListenAsync(CancellationToken ct)
    {
        var attempt = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(store.ConnectionString)
                {
                    Pooling = false,
                    KeepAlive = 15,
                    CommandTimeout = 0,
                    ApplicationName = "pilotage allowance listener",
                };
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                connection.Notification += (_, e) => onRecall(e.Payload);
                await connection.OpenAsync(ct);
                await using (var listen = new NpgsqlCommand($"LISTEN {AllowanceStore.RecallChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }
                attempt = 0;
                while (true) await connection.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Whatever broke the connection, listening must resume.
            catch (Exception e)
#pragma warning restore CA1031
            {
                attempt++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(10_000, 250 * Math.Pow(2, Math.Min(attempt - 1, 6))));
                logger.LogWarning("Limits: the recall LISTEN connection failed (attempt {Attempt}); retrying in {Delay} ms: {Reason}",
                    attempt, (int)delay.TotalMilliseconds, e.Message);
                try
                {
                    await Task.Delay(delay, time, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
