using System.Net.Sockets;
using Grpc.Core;
using Porter.Protocol;
using Porter.Protocol.V1;
using Xunit;

namespace Porter.Tests.Protocol;

/// <summary>
/// Client-side failures as the plugin reports them (grpc-dotnet's "localhost:80" translated into the socket and the
/// cause), against sockets in a private temporary directory (no real server needed).
/// </summary>
public sealed class PorterClientTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_missing_socket_is_UNAVAILABLE_and_named()
    {
        var path = Path.Combine(_dir.Path, "net-porter.sock");
        using var client = new PorterClient(path, TimeSpan.FromSeconds(10));

        var e = await Assert.ThrowsAsync<RpcException>(() =>
            client.InfoAsync());

        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Equal(
            $"cannot reach net-porter-server at {path}: the socket does not exist (is net-porter-server running, and is this the right path?)",
            e.Status.Detail);
        Assert.Equal(path, client.SocketPath);
    }

    [Fact]
    public async Task A_regular_file_in_place_of_the_socket_is_UNAVAILABLE()
    {
        var path = Path.Combine(_dir.Path, "not-a-socket");
        File.WriteAllText(path, "");
        using var client = new PorterClient(path, TimeSpan.FromSeconds(10));

        var e = await Assert.ThrowsAsync<RpcException>(() =>
            client.InfoAsync());

        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Equal($"cannot reach net-porter-server at {path}: connection refused (the socket file exists but no server is listening)", e.Status.Detail);
    }

    [Fact]
    public async Task A_call_cancelled_by_the_caller_is_CANCELLED()
    {
        var path = Path.Combine(_dir.Path, "net-porter.sock");
        using var client = new PorterClient(path);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        var e = await Assert.ThrowsAsync<RpcException>(() => client.SetupAsync(new SetupRequest(), cts.Token));

        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        Assert.Equal("Setup call was cancelled", e.Status.Detail);
    }

    [Fact]
    public async Task A_server_that_accepts_but_never_answers_runs_into_the_deadline()
    {
        var path = Path.Combine(_dir.Path, "silent.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        using var client = new PorterClient(path, TimeSpan.FromMilliseconds(300));

        var e = await Assert.ThrowsAsync<RpcException>(() => client.InfoAsync());

        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        Assert.Equal($"net-porter-server at {path} did not answer Info within 0.3 s", e.Status.Detail);
    }

    [Fact]
    public async Task A_socket_nobody_listens_on_is_UNAVAILABLE_connection_refused()
    {
        var path = Path.Combine(_dir.Path, "stale.sock");
        using var bound = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        bound.Bind(new UnixDomainSocketEndPoint(path));
        using var client = new PorterClient(path, TimeSpan.FromSeconds(10));

        var e = await Assert.ThrowsAsync<RpcException>(() =>
            client.InfoAsync());

        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Equal($"cannot reach net-porter-server at {path}: connection refused (the socket file exists but no server is listening)", e.Status.Detail);
    }
}
