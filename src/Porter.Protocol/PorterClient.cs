using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Porter.Protocol.V1;

namespace Porter.Protocol;

/// <summary>
/// Typed calls to net-porter-server over its unix socket, on Grpc.Net.Client. grpc-dotnet reports every transport
/// failure as UNAVAILABLE about "localhost:80" (the placeholder host HTTP needs); those are translated here into
/// messages that name the socket and the cause, and a missed deadline into one that names the call.
/// </summary>
public sealed class PorterClient : IDisposable
{
    /// <summary>Replies are small; a larger one is a broken or hostile server.</summary>
    public const int MaxReceiveMessageSize = 4 * 1024 * 1024;

    private readonly GrpcChannel _channel;
    private readonly V1.Porter.PorterClient _client;

    public PorterClient(string socketPath, TimeSpan? timeout = null)
    {
        SocketPath = socketPath;
        Timeout = timeout;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
        };
        _channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = MaxReceiveMessageSize,
        });
        _client = new V1.Porter.PorterClient(_channel);
        ClientTimings.Lap("client");
    }

    public string SocketPath { get; }

    /// <summary>Deadline sent with every call; null waits as long as the server works.</summary>
    public TimeSpan? Timeout { get; }

    public Task<InfoResponse> InfoAsync(CancellationToken cancellationToken = default) =>
        CallAsync("Info", options => _client.InfoAsync(new InfoRequest(), options), cancellationToken);

    public Task<CreateResponse> CreateAsync(CreateRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("Create", options => _client.CreateAsync(request, options), cancellationToken);

    public Task<SetupResponse> SetupAsync(SetupRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("Setup", options => _client.SetupAsync(request, options), cancellationToken);

    public Task<TeardownResponse> TeardownAsync(TeardownRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("Teardown", options => _client.TeardownAsync(request, options), cancellationToken);

    public Task<SetupResponse> AttachAsync(AttachRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("Attach", options => _client.AttachAsync(request, options), cancellationToken);

    public Task<TeardownResponse> DetachAsync(DetachRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("Detach", options => _client.DetachAsync(request, options), cancellationToken);

    public Task<StatusResponse> StatusAsync(CancellationToken cancellationToken = default) =>
        CallAsync("Status", options => _client.StatusAsync(new StatusRequest(), options), cancellationToken);

    public void Dispose() => _channel.Dispose();

    private async Task<T> CallAsync<T>(string method, Func<CallOptions, AsyncUnaryCall<T>> start, CancellationToken cancellationToken)
    {
        var options = new CallOptions(deadline: Timeout is { } limit ? DateTime.UtcNow + limit : null, cancellationToken: cancellationToken);
        try
        {
            using var call = start(options);
            var response = await call.ResponseAsync.ConfigureAwait(false);
            ClientTimings.Lap("call");
            return response;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded && e.Status.Detail.Length == 0 && Timeout is { } waited)
        {
            // The client's own deadline (the server's DEADLINE_EXCEEDED answers always say what timed out).
            throw Failure(StatusCode.DeadlineExceeded, $"net-porter-server at {SocketPath} did not answer {method} within {waited.TotalSeconds:0.#} s", e);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw Failure(StatusCode.Cancelled, $"{method} call was cancelled", e);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && e.Status.DebugException is { } cause)
        {
            throw TranslateTransportError(cause, e);
        }
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ClientTimings.Lap("http pipeline");
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken).ConfigureAwait(false);
            ClientTimings.Lap("connect");
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private RpcException TranslateTransportError(Exception cause, RpcException original)
    {
        var prefix = $"cannot reach net-porter-server at {SocketPath}";
        return FindSocketError(cause) switch
        {
            // .NET reports ENOENT on a unix connect as AddressNotAvailable.
            SocketError.AddressNotAvailable => Failure(StatusCode.Unavailable,
                $"{prefix}: the socket does not exist (is net-porter-server running, and is this the right path?)", original),
            SocketError.ConnectionRefused => Failure(StatusCode.Unavailable,
                $"{prefix}: connection refused (the socket file exists but no server is listening)", original),
            SocketError.AccessDenied => Failure(StatusCode.PermissionDenied,
                $"{prefix}: permission denied (the server's domain_socket user/group does not include you)", original),
            SocketError.NotSocket or SocketError.InvalidArgument => Failure(StatusCode.Unavailable, $"{prefix}: not a unix socket", original),
            SocketError.ConnectionReset or SocketError.Shutdown => Failure(StatusCode.Unavailable,
                $"connection to net-porter-server at {SocketPath} was closed: {InnermostMessage(cause)}", original),
            _ when cause is IOException or HttpRequestException => Failure(StatusCode.Unavailable,
                $"connection to net-porter-server at {SocketPath} broke: {InnermostMessage(cause)}", original),
            _ => Failure(StatusCode.Unavailable, $"{prefix}: {InnermostMessage(cause)}", original),
        };
    }

    private static RpcException Failure(StatusCode code, string detail, Exception cause) => new(new Status(code, detail, cause));

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
}
