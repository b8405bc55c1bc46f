using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Google.Protobuf;

namespace Porter.Protocol.Grpc;

/// <summary>
/// A gRPC client for unary calls over HTTP/2 cleartext on a unix socket (Grpc.Net.Client is not available here,
/// and a plugin started for every container wants nothing heavier). Every failure surfaces as an
/// <see cref="RpcException"/> whose message names the socket, never the placeholder host HttpClient needs.
/// </summary>
public sealed class UnixSocketChannel : IDisposable
{
    private readonly HttpClient _http;
    private readonly int _maxReceiveMessageSize;

    public UnixSocketChannel(string socketPath, int maxReceiveMessageSize = GrpcWire.DefaultMaxMessageSize)
    {
        SocketPath = socketPath;
        _maxReceiveMessageSize = maxReceiveMessageSize;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
        };
        _http = new HttpClient(handler)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    public string SocketPath { get; }

    public async Task<TResponse> CallAsync<TRequest, TResponse>(
        UnaryMethod<TRequest, TResponse> method, TRequest request, TimeSpan? timeout, CancellationToken cancellationToken = default)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout is { } limit)
        {
            deadline.CancelAfter(limit);
        }
        using var message = new HttpRequestMessage(HttpMethod.Post, "http://localhost" + method.Path)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var content = new ByteArrayContent(MessageFrame.Encode(request));
        content.Headers.ContentType = new MediaTypeHeaderValue(GrpcWire.ContentType);
        message.Content = content;
        message.Headers.TryAddWithoutValidation("te", "trailers");
        if (timeout is { } t)
        {
            message.Headers.TryAddWithoutValidation(GrpcWire.TimeoutHeader, GrpcWire.FormatTimeout(t));
        }

        try
        {
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token)
                .ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new RpcException(GrpcWire.StatusFromHttp((int)response.StatusCode),
                    $"{SocketPath} answered HTTP {(int)response.StatusCode} instead of gRPC");
            }
            // "Trailers-only" replies put the status in the headers and carry no body.
            if (TryReadStatus(response.Headers, out var headerStatus, out var headerMessage))
            {
                throw headerStatus == StatusCode.OK
                    ? new RpcException(StatusCode.Internal, "server answered OK without a message")
                    : new RpcException(headerStatus, headerMessage);
            }
            if (!GrpcWire.IsGrpcContentType(response.Content.Headers.ContentType?.MediaType))
            {
                throw new RpcException(StatusCode.Unknown,
                    $"{SocketPath} did not answer with gRPC (content-type '{response.Content.Headers.ContentType}')");
            }
            byte[]? payload;
            using (var body = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false))
            {
                payload = await MessageFrame.ReadUnaryAsync(body, _maxReceiveMessageSize, deadline.Token).ConfigureAwait(false);
            }
            if (!TryReadStatus(response.TrailingHeaders, out var status, out var detail))
            {
                throw new RpcException(StatusCode.Internal, "server reply ended without a grpc-status");
            }
            if (status != StatusCode.OK)
            {
                throw new RpcException(status, detail);
            }
            if (payload is null)
            {
                throw new RpcException(StatusCode.Internal, "server answered OK without a message");
            }
            return MessageFrame.Parse(method.ResponseParser, payload, StatusCode.Internal);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadline.IsCancellationRequested)
        {
            throw new RpcException(StatusCode.DeadlineExceeded,
                $"net-porter-server at {SocketPath} did not answer {method.Name} within {timeout!.Value.TotalSeconds:0.#} s");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new RpcException(StatusCode.Cancelled, $"{method.Name} call was cancelled");
        }
        catch (HttpRequestException e)
        {
            throw TranslateTransportError(e);
        }
        catch (IOException e)
        {
            throw new RpcException(StatusCode.Unavailable, $"connection to net-porter-server at {SocketPath} broke: {e.Message}", e);
        }
    }

    public void Dispose() => _http.Dispose();

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private RpcException TranslateTransportError(HttpRequestException e)
    {
        var socketError = FindSocketError(e);
        var prefix = $"cannot reach net-porter-server at {SocketPath}";
        return socketError switch
        {
            // .NET reports ENOENT on a unix connect as AddressNotAvailable.
            SocketError.AddressNotAvailable => new RpcException(StatusCode.Unavailable,
                $"{prefix}: the socket does not exist (is net-porter-server running, and is this the right path?)", e),
            SocketError.ConnectionRefused => new RpcException(StatusCode.Unavailable,
                $"{prefix}: connection refused (the socket file exists but no server is listening)", e),
            SocketError.AccessDenied => new RpcException(StatusCode.PermissionDenied,
                $"{prefix}: permission denied (the server's domain_socket user/group does not include you)", e),
            SocketError.NotSocket or SocketError.InvalidArgument => new RpcException(StatusCode.Unavailable,
                $"{prefix}: not a unix socket", e),
            SocketError.ConnectionReset or SocketError.Shutdown => new RpcException(StatusCode.Unavailable,
                $"connection to net-porter-server at {SocketPath} was closed: {e.Message}", e),
            _ => new RpcException(StatusCode.Unavailable, $"{prefix}: {InnermostMessage(e)}", e),
        };
    }

    private static SocketError? FindSocketError(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is SocketException se)
            {
                return se.SocketErrorCode;
            }
        }
        return null;
    }

    private static string InnermostMessage(Exception e)
    {
        var x = e;
        while (x.InnerException is not null)
        {
            x = x.InnerException;
        }
        return x.Message;
    }

    private static bool TryReadStatus(HttpHeaders headers, out StatusCode status, out string message)
    {
        status = StatusCode.Unknown;
        message = "";
        if (!headers.TryGetValues(GrpcWire.StatusHeader, out var values))
        {
            return false;
        }
        var raw = values.FirstOrDefault();
        status = int.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var code)
            ? (StatusCode)code
            : StatusCode.Unknown;
        if (headers.TryGetValues(GrpcWire.MessageHeader, out var messages))
        {
            message = GrpcWire.PercentDecode(messages.FirstOrDefault() ?? "");
        }
        if (message.Length == 0 && status != StatusCode.OK)
        {
            message = $"server failed with {status.ToWireName()} and gave no message";
        }
        return true;
    }
}
