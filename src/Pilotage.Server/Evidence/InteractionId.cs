using System.Globalization;

namespace Pilotage.Server.Evidence;

/// <summary>
/// Interaction ids: <c>int_</c> + a UUIDv7 in "N" format (36 characters). The 48-bit millisecond
/// timestamp leads, so ids sort by creation time (to the millisecond) and index inserts stay
/// append-mostly instead of splitting random pages.
/// </summary>
public static class InteractionId
{
    public const string Prefix = "int_";

    public static string New() => Prefix + Guid.CreateVersion7().ToString("N", CultureInfo.InvariantCulture);

    /// <summary>An id stamped with <paramref name="time"/>'s clock, so tests with a fake clock get ordered ids.</summary>
    public static string New(TimeProvider time) =>
        Prefix + Guid.CreateVersion7(time.GetUtcNow()).ToString("N", CultureInfo.InvariantCulture);
}
