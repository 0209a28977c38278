namespace Pilotage.Core.Evidence;

/// <summary>What an interaction was: a chat completion, an embeddings request, or manual work recorded for comparison.</summary>
public enum InteractionEndpoint { Chat, Embeddings, Manual }

/// <summary>
/// The one spelling of <see cref="InteractionEndpoint"/> in the store and the API (not named <c>…Endpoints</c>: that
/// suffix is kept for HTTP adapters). The constants let queries and patterns over the stored text
/// (<c>row.Endpoint == InteractionEndpointNames.Manual</c>) spell it from here.
/// </summary>
public static class InteractionEndpointNames
{
    public const string Chat = "chat";
    public const string Embeddings = "embeddings";
    public const string Manual = "manual";

    /// <summary>Every endpoint's name, in declaration order (used in error messages).</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<InteractionEndpoint>().Select(Name)];

    public static string Name(this InteractionEndpoint endpoint) => endpoint switch
    {
        InteractionEndpoint.Chat => Chat,
        InteractionEndpoint.Embeddings => Embeddings,
        InteractionEndpoint.Manual => Manual,
        _ => throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint, "not an interaction endpoint"),
    };

    /// <summary>The endpoint <paramref name="name"/> spells (exactly); null for anything else.</summary>
    public static InteractionEndpoint? Parse(string? name) => name switch
    {
        Chat => InteractionEndpoint.Chat,
        Embeddings => InteractionEndpoint.Embeddings,
        Manual => InteractionEndpoint.Manual,
        _ => null,
    };

    /// <summary>The endpoint <paramref name="name"/> spells; a <see cref="FormatException"/> listing the endpoints for anything else.</summary>
    public static InteractionEndpoint Require(string? name) => Parse(name) ?? throw Vocabulary.Unknown("an interaction endpoint", name, Names);
}
