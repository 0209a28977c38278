namespace Pilotage.Server.Api;

/// <summary>Bounds every request to the server shares, whatever feature serves it.</summary>
public static class RequestLimits
{
    /// <summary>Kestrel refuses a body above this before it is read; apply and import narrow it further.</summary>
    public const long MaxBodyBytes = 16 * 1024 * 1024;
}
