using System.Globalization;
using Npgsql;

namespace Pilotage.Testing;

/// <summary>
/// A throwaway database on the server named by <c>PILOTAGE_TEST_POSTGRES</c>:
/// created with a unique name, dropped (WITH (FORCE)) on dispose.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    public const string EnvironmentVariable = "PILOTAGE_TEST_POSTGRES";

    private readonly string _adminConnectionString;
    private bool _disposed;

    private PostgresDatabase(string adminConnectionString, string name, string connectionString)
    {
        _adminConnectionString = adminConnectionString;
        Name = name;
        ConnectionString = connectionString;
    }

    /// <summary>The database name (<c>pilotage_test_&lt;guid&gt;</c>).</summary>
    public string Name { get; }

    /// <summary>Connection string for this database.</summary>
    public string ConnectionString { get; }

    public static Task<PostgresDatabase> CreateAsync(CancellationToken cancellationToken = default) => CreateAsync("", cancellationToken);

    /// <param name="options">Options of <c>CREATE DATABASE</c> after the name (a constant of the test, never input), e.g. another default collation.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    public static async Task<PostgresDatabase> CreateAsync(string options, CancellationToken cancellationToken = default)
    {
        var admin = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(admin))
        {
            throw new InvalidOperationException(
                $"{EnvironmentVariable} is not set; .ci/run starts a server and sets it");
        }

        NpgsqlConnectionStringBuilder adminBuilder;
        try
        {
            adminBuilder = new NpgsqlConnectionStringBuilder(admin);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException(
                $"{EnvironmentVariable} is not a valid Npgsql connection string: {ex.Message}", ex);
        }

        var name = "pilotage_test_" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture);

        try
        {
            await using var connection = new NpgsqlConnection(adminBuilder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
#pragma warning disable CA2100 // The name is generated above from a GUID, the options are a test's constant: never user input.
            command.CommandText = $"CREATE DATABASE \"{name}\" {options}";
#pragma warning restore CA2100
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new InvalidOperationException(
                $"Could not create test database on PostgreSQL at {adminBuilder.Host}:{adminBuilder.Port} " +
                $"({EnvironmentVariable}): {ex.Message}", ex);
        }

        var builder = new NpgsqlConnectionStringBuilder(adminBuilder.ConnectionString) { Database = name };
        return new PostgresDatabase(adminBuilder.ConnectionString, name, builder.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Drop pooled connections to this database first; WITH (FORCE) ends any still in use.
        await using (var pooled = new NpgsqlConnection(ConnectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
#pragma warning disable CA2100 // The name is generated from a GUID, never user input.
        command.CommandText = $"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)";
#pragma warning restore CA2100
        await command.ExecuteNonQueryAsync();
    }

    public override string ToString() => Name;
}
