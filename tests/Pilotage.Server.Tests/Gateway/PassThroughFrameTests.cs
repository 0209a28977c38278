using System.Buffers;
using System.Text;
using Pilotage.Server.Gateway.Protocols;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// An event read as a tree goes out written piece by piece into the response's pipe: the same bytes as its frame's
/// string encoded whole, for any event name and data, lone surrogates and pairs at either end included.
/// </summary>
public sealed class PassThroughFrameTests
{
    private static byte[] Written(string? eventName, string data)
    {
        var writer = new ArrayBufferWriter<byte>(1); // grown step by step: the encoder writes across many spans
        PassThroughStream.WriteFrame(writer, eventName, data);
        return writer.WrittenSpan.ToArray();
    }

    private static byte[] Whole(string? eventName, string data) =>
        Encoding.UTF8.GetBytes(eventName is null ? $"data: {data}\n\n" : $"event: {eventName}\ndata: {data}\n\n");

    [Theory]
    [InlineData(null, "")]
    [InlineData("", "{}")]
    [InlineData("message_delta", "{\"type\":\"message_delta\",\"text\":\"Café 😀\"}")]
    [InlineData("\uD83D", "\uDE00")] // half a pair at the end of the name, the other half at the start of the data
    [InlineData("a\uDE00", "\uD83Db")]
    [InlineData(null, "\uD83D")]
    [InlineData(null, "\uDE00\uD83D")]
    public void An_event_is_written_as_its_frame_encoded_whole(string? eventName, string data) =>
        Assert.Equal(Whole(eventName, data), Written(eventName, data));

    [Fact]
    public void Random_events_are_written_as_their_frames_encoded_whole()
    {
        var random = new Random(27);
        string[] parts = ["a", "é", "😀", "\uD83D", "\uDE00", "\n", "\"", "\\u00e9", new('x', 300), new('é', 5000), "{\"type\":\"ping\"}"];
        string Text(int most) => string.Concat(Enumerable.Range(0, random.Next(0, most)).Select(_ => parts[random.Next(parts.Length)]));
        for (var round = 0; round < 500; round++)
        {
            var eventName = random.Next(4) == 0 ? null : Text(4);
            var data = Text(30);
            Assert.Equal(Whole(eventName, data), Written(eventName, data));
        }
    }
}
