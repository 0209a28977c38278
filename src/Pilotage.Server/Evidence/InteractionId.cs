using System.Buffers.Binary;

namespace Pilotage.Server.Evidence;

/// <summary>
/// Interaction ids: <c>int_</c> + a UUIDv7 in "N" format (36 characters). The 48-bit millisecond
/// timestamp leads, so ids sort by creation time (to the millisecond) and index inserts stay
/// append-mostly instead of splitting random pages.
/// </summary>
/// <remarks>
/// The 74 random bits come from <see cref="Random.Shared"/>, not from <see cref="Guid.CreateVersion7()"/>:
/// that one reads the operating system's random device, a system call on every gateway request. These ids
/// only need to be unique (replicas share one database); they are not secrets, since an interaction is only
/// shown to its own caller and to the system's staff.
/// </remarks>
public static class InteractionId
{
    public const string Prefix = "int_";

    public static string New() => New(TimeProvider.System);

    /// <summary>An id stamped with <paramref name="time"/>'s clock, so tests with a fake clock get ordered ids.</summary>
    public static string New(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        Span<byte> uuid = stackalloc byte[16];
        Random.Shared.NextBytes(uuid[6..]);
        // RFC 9562 layout, big-endian: unix_ts_ms (48 bits), version 7, rand_a (12), variant 0b10, rand_b (62).
        Span<byte> millis = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(millis, time.GetUtcNow().ToUnixTimeMilliseconds());
        millis[2..].CopyTo(uuid);
        uuid[6] = (byte)((uuid[6] & 0x0F) | 0x70);
        uuid[8] = (byte)((uuid[8] & 0x3F) | 0x80);
        Span<char> id = stackalloc char[Prefix.Length + 32];
        Prefix.CopyTo(id);
        Convert.TryToHexStringLower(uuid, id[Prefix.Length..], out _);
        return new string(id);
    }
}
