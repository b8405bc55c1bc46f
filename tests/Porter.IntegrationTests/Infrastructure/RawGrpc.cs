using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace Porter.IntegrationTests.Infrastructure;

/// <summary>What came back for a hand-made call: the HTTP status and the gRPC status and message (headers or trailers).</summary>
public sealed record RawReply(int HttpStatus, string? GrpcStatus, string? GrpcMessage);

/// <summary>
/// Sends arbitrary bytes as the body of an HTTP/2 request over a unix socket, bypassing the real client's framing,
/// to show how the server treats bodies no honest client would send.
/// </summary>
public static class RawGrpc
{
    public static async Task<RawReply> PostAsync(string socketPath, string path, byte[] body, string contentType = "application/grpc", string method = "POST")
    {
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(new HttpMethod(method), "http://localhost" + path)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TryAddWithoutValidation("te", "trailers");
        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        string? Header(string name) =>
            response.Headers.TryGetValues(name, out var h) ? h.First()
            : response.TrailingHeaders.TryGetValues(name, out var t) ? t.First()
            : null;
        var message = Header("grpc-message");
        return new RawReply((int)response.StatusCode, Header("grpc-status"), message is null ? null : Uri.UnescapeDataString(message));
    }

    /// <summary>A gRPC length-prefixed frame with any flag, declared length and payload.</summary>
    public static byte[] Frame(byte flag, uint declaredLength, byte[] payload)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), declaredLength);
        payload.CopyTo(frame, 5);
        return frame;
    }
}
