using System.Buffers.Binary;
using Google.Protobuf;

namespace Porter.Protocol.Grpc;

/// <summary>
/// gRPC length-prefixed messages: 1 flag byte (0 = not compressed), a 4-byte big-endian length, the protobuf bytes.
/// A unary call body holds exactly one of them.
/// </summary>
public static class MessageFrame
{
    public const int HeaderSize = 5;

    public static byte[] Encode(IMessage message)
    {
        var size = message.CalculateSize();
        var frame = new byte[HeaderSize + size];
        frame[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1, 4), (uint)size);
        message.WriteTo(frame.AsSpan(HeaderSize));
        return frame;
    }

    /// <summary>
    /// Reads the one message of a unary body and checks nothing follows it; null when the body is empty
    /// (a reply that failed carries no message). Violations are reported as the gRPC status a peer expects:
    /// RESOURCE_EXHAUSTED for an oversized message, INTERNAL for broken framing.
    /// </summary>
    public static async Task<byte[]?> ReadUnaryAsync(Stream body, int maxMessageSize, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderSize];
        var got = await ReadFullyAsync(body, header, cancellationToken).ConfigureAwait(false);
        if (got == 0)
        {
            return null;
        }
        if (got < HeaderSize)
        {
            throw new RpcException(StatusCode.Internal, $"incomplete gRPC frame header ({got} of {HeaderSize} bytes)");
        }
        switch (header[0])
        {
            case 0:
                break;
            case 1:
                throw new RpcException(StatusCode.Internal, "compressed message received, but no compression was negotiated");
            default:
                throw new RpcException(StatusCode.Internal, $"invalid gRPC frame flag 0x{header[0]:x2}");
        }
        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1, 4));
        if (length > (uint)maxMessageSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted,
                $"message of {length} bytes is larger than the limit of {maxMessageSize} bytes");
        }
        var payload = new byte[length];
        got = await ReadFullyAsync(body, payload, cancellationToken).ConfigureAwait(false);
        if (got < payload.Length)
        {
            throw new RpcException(StatusCode.Internal, $"incomplete message ({got} of {length} bytes)");
        }
        var probe = new byte[1];
        if (await body.ReadAsync(probe, cancellationToken).ConfigureAwait(false) != 0)
        {
            throw new RpcException(StatusCode.Internal, "more than one message in a unary call");
        }
        return payload;
    }

    /// <summary>Parses a message, turning protobuf's exception into a status that names the type expected.</summary>
    public static T Parse<T>(MessageParser<T> parser, byte[] payload, StatusCode statusOnError)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            var name = typeof(T).Name;
            throw new RpcException(statusOnError, $"malformed {name} message: {e.Message}");
        }
    }

    private static async Task<int> ReadFullyAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }
}
