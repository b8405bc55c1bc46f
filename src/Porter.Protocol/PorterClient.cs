using Porter.Protocol.Grpc;
using Porter.Protocol.V1;

namespace Porter.Protocol;

/// <summary>Typed calls to net-porter-server over its unix socket.</summary>
public sealed class PorterClient : IDisposable
{
    private readonly UnixSocketChannel _channel;

    public PorterClient(string socketPath, TimeSpan? timeout = null)
    {
        _channel = new UnixSocketChannel(socketPath);
        Timeout = timeout;
    }

    public string SocketPath => _channel.SocketPath;

    /// <summary>Deadline sent with every call; null waits as long as the server works.</summary>
    public TimeSpan? Timeout { get; }

    public Task<InfoResponse> InfoAsync(CancellationToken cancellationToken = default) =>
        _channel.CallAsync(PorterApi.Info, new InfoRequest(), Timeout, cancellationToken);

    public Task<CreateResponse> CreateAsync(CreateRequest request, CancellationToken cancellationToken = default) =>
        _channel.CallAsync(PorterApi.Create, request, Timeout, cancellationToken);

    public Task<SetupResponse> SetupAsync(SetupRequest request, CancellationToken cancellationToken = default) =>
        _channel.CallAsync(PorterApi.Setup, request, Timeout, cancellationToken);

    public Task<TeardownResponse> TeardownAsync(TeardownRequest request, CancellationToken cancellationToken = default) =>
        _channel.CallAsync(PorterApi.Teardown, request, Timeout, cancellationToken);

    public void Dispose() => _channel.Dispose();
}
