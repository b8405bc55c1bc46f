using Google.Protobuf;
using Porter.Protocol.Grpc;
using Porter.Protocol.V1;
using Xunit;

namespace Porter.Tests.Protocol;

public sealed class MessageFrameTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public void Encode_writes_flag_zero_a_big_endian_length_and_the_message()
    {
        var message = new InfoResponse { ServerVersion = new string('x', 300) };
        var body = message.ToByteArray();
        Assert.Equal(303, body.Length); // tag, two-byte varint length, 300 bytes

        var frame = MessageFrame.Encode(message);

        Assert.Equal(5 + 303, frame.Length);
        Assert.Equal(new byte[] { 0, 0, 0, 0x01, 0x2F }, frame[..5]);
        Assert.Equal(body, frame[5..]);
    }

    [Fact]
    public void Encode_of_an_empty_message_is_a_bare_header()
    {
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0 }, MessageFrame.Encode(new InfoRequest()));
    }

    [Fact]
    public async Task ReadUnaryAsync_returns_the_payload_of_one_frame()
    {
        var message = new CreateRequest { Resource = "macvlan-dhcp", Network = new Network { Name = "lan" } };
        using var body = new MemoryStream(MessageFrame.Encode(message));

        var payload = await MessageFrame.ReadUnaryAsync(body, GrpcWire.DefaultMaxMessageSize, None);

        Assert.NotNull(payload);
        Assert.Equal(message.ToByteArray(), payload);
        Assert.Equal(message, CreateRequest.Parser.ParseFrom(payload));
    }

    [Fact]
    public async Task ReadUnaryAsync_assembles_a_frame_that_arrives_a_byte_at_a_time()
    {
        var message = new InfoResponse { ServerVersion = "0.1.0", ApiVersion = "1" };
        using var body = new TrickleStream(MessageFrame.Encode(message));

        var payload = await MessageFrame.ReadUnaryAsync(body, GrpcWire.DefaultMaxMessageSize, None);

        Assert.Equal(message.ToByteArray(), payload);
    }

    [Fact]
    public async Task ReadUnaryAsync_returns_null_for_an_empty_body()
    {
        using var body = new MemoryStream();
        Assert.Null(await MessageFrame.ReadUnaryAsync(body, GrpcWire.DefaultMaxMessageSize, None));
    }

    [Fact]
    public async Task ReadUnaryAsync_returns_an_empty_payload_for_a_zero_length_frame()
    {
        using var body = new MemoryStream(new byte[] { 0, 0, 0, 0, 0 });
        Assert.Equal(Array.Empty<byte>(), await MessageFrame.ReadUnaryAsync(body, GrpcWire.DefaultMaxMessageSize, None));
    }

    [Fact]
    public async Task A_truncated_header_is_INTERNAL()
    {
        var e = await ReadFails(new byte[] { 0, 0, 0 });
        Assert.Equal(StatusCode.Internal, e.Status);
        Assert.Equal("incomplete gRPC frame header (3 of 5 bytes)", e.Message);
    }

    [Fact]
    public async Task A_truncated_body_is_INTERNAL()
    {
        var e = await ReadFails(new byte[] { 0, 0, 0, 0, 10, 1, 2, 3, 4 });
        Assert.Equal(StatusCode.Internal, e.Status);
        Assert.Equal("incomplete message (4 of 10 bytes)", e.Message);
    }

    [Fact]
    public async Task A_compressed_frame_is_INTERNAL_because_no_compression_was_negotiated()
    {
        var e = await ReadFails(new byte[] { 1, 0, 0, 0, 1, 0x08 });
        Assert.Equal(StatusCode.Internal, e.Status);
        Assert.Equal("compressed message received, but no compression was negotiated", e.Message);
    }

    [Fact]
    public async Task An_unknown_flag_is_INTERNAL()
    {
        var e = await ReadFails(new byte[] { 0x80, 0, 0, 0, 0 });
        Assert.Equal(StatusCode.Internal, e.Status);
        Assert.Equal("invalid gRPC frame flag 0x80", e.Message);
    }

    [Fact]
    public async Task A_length_over_the_limit_is_RESOURCE_EXHAUSTED_before_anything_is_read()
    {
        // Only the header is there: the limit must be enforced on the announced length.
        var e = await ReadFails(new byte[] { 0, 0, 0, 0, 17 }, maxMessageSize: 16);
        Assert.Equal(StatusCode.ResourceExhausted, e.Status);
        Assert.Equal("message of 17 bytes is larger than the limit of 16 bytes", e.Message);
    }

    [Fact]
    public async Task A_length_with_the_top_bit_set_is_RESOURCE_EXHAUSTED_not_negative()
    {
        var e = await ReadFails(new byte[] { 0, 0xFF, 0xFF, 0xFF, 0xFF });
        Assert.Equal(StatusCode.ResourceExhausted, e.Status);
        Assert.Equal($"message of 4294967295 bytes is larger than the limit of {GrpcWire.DefaultMaxMessageSize} bytes", e.Message);
    }

    [Fact]
    public async Task A_length_at_the_limit_is_accepted()
    {
        using var body = new MemoryStream(new byte[] { 0, 0, 0, 0, 3, 7, 8, 9 });
        Assert.Equal(new byte[] { 7, 8, 9 }, await MessageFrame.ReadUnaryAsync(body, 3, None));
    }

    [Fact]
    public async Task Two_frames_in_a_unary_body_are_INTERNAL()
    {
        var one = MessageFrame.Encode(new InfoRequest());
        var e = await ReadFails([.. one, .. one]);
        Assert.Equal(StatusCode.Internal, e.Status);
        Assert.Equal("more than one message in a unary call", e.Message);
    }

    [Fact]
    public async Task A_stray_byte_after_the_frame_is_INTERNAL()
    {
        var e = await ReadFails([.. MessageFrame.Encode(new InfoResponse { ApiVersion = "1" }), 0]);
        Assert.Equal(StatusCode.Internal, e.Status);
        Assert.Equal("more than one message in a unary call", e.Message);
    }

    [Fact]
    public void Parse_returns_the_message()
    {
        var message = new SetupRequest { Resource = "lan", ContainerId = "abc", StaticIps = { "192.168.1.5" } };
        Assert.Equal(message, MessageFrame.Parse(SetupRequest.Parser, message.ToByteArray(), StatusCode.InvalidArgument));
    }

    [Theory]
    [InlineData(StatusCode.InvalidArgument)]
    [InlineData(StatusCode.Internal)]
    public void Parse_of_garbage_throws_the_given_status_naming_the_type(StatusCode status)
    {
        // Field 1, length-delimited, announces 5 bytes but only one follows.
        var e = Assert.Throws<RpcException>(() => MessageFrame.Parse(InfoResponse.Parser, [0x0A, 0x05, 0x61], status));
        Assert.Equal(status, e.Status);
        Assert.StartsWith("malformed InfoResponse message: ", e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Length > "malformed InfoResponse message: ".Length);
    }

    [Fact]
    public void Parse_of_an_invalid_tag_throws()
    {
        var e = Assert.Throws<RpcException>(() => MessageFrame.Parse(SetupRequest.Parser, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], StatusCode.InvalidArgument));
        Assert.Equal(StatusCode.InvalidArgument, e.Status);
        Assert.StartsWith("malformed SetupRequest message: ", e.Message, StringComparison.Ordinal);
    }

    private static async Task<RpcException> ReadFails(byte[] bytes, int maxMessageSize = GrpcWire.DefaultMaxMessageSize)
    {
        using var body = new MemoryStream(bytes);
        return await Assert.ThrowsAsync<RpcException>(() => MessageFrame.ReadUnaryAsync(body, maxMessageSize, None));
    }

    /// <summary>Hands out one byte per read, as a slow socket may.</summary>
    private sealed class TrickleStream(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= data.Length || count == 0)
            {
                return 0;
            }
            buffer[offset] = data[_position++];
            return 1;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= data.Length || buffer.Length == 0)
            {
                return ValueTask.FromResult(0);
            }
            buffer.Span[0] = data[_position++];
            return ValueTask.FromResult(1);
        }
    }
}
