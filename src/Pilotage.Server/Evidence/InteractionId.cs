namespace Pilotage.Server.Evidence;

/// <summary>
/// Interaction ids: <c>int_</c> + a UUIDv7 in "N" format (36 characters). The 48-bit millisecond
/// timestamp leads, so ids sort by creation time (to the millisecond) and index inserts stay
/// append-mostly instead of splitting random pages.
/// </summary>
public static class InteractionId
{
    public const string Prefix = "int_";

    public static string New() => Format(Guid.CreateVersion7());

    /// <summary>An id stamped with <paramref name="time"/>'s clock, so tests with a fake clock get ordered ids.</summary>
    public static string New(TimeProvider time) => Format(Guid.CreateVersion7(time.GetUtcNow()));

    // One string per id (every gateway request makes one), not the GUID's text and then the concatenation.
    private static string Format(Guid id) => string.Create(Prefix.Length + 32, id, static (chars, guid) =>
    {
        Prefix.CopyTo(chars);
        guid.TryFormat(chars[Prefix.Length..], out _, "N");
    });
}
