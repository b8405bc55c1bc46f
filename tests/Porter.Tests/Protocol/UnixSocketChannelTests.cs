using System.Net.Sockets;
using Porter.Protocol;
using Porter.Protocol.Grpc;
using Porter.Protocol.V1;
using Xunit;

namespace Porter.Tests.Protocol;

/// <summary>Client-side failures, against sockets in a private temporary directory (no real server needed).</summary>
public sealed class UnixSocketChannelTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_missing_socket_is_UNAVAILABLE_and_named()
    {
        var path = Path.Combine(_dir.Path, "net-porter.sock");
        using var channel = new UnixSocketChannel(path);

        var e = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CallAsync(PorterApi.Info, new InfoRequest(), TimeSpan.FromSeconds(10)));

        Assert.Equal(StatusCode.Unavailable, e.Status);
        Assert.Equal(
            $"cannot reach net-porter-server at {path}: the socket does not exist (is net-porter-server running, and is this the right path?)",
            e.Message);
        Assert.Equal(path, channel.SocketPath);
    }

    [Fact]
    public async Task A_regular_file_in_place_of_the_socket_is_UNAVAILABLE()
    {
        var path = Path.Combine(_dir.Path, "not-a-socket");
        File.WriteAllText(path, "");
        using var channel = new UnixSocketChannel(path);

        var e = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CallAsync(PorterApi.Info, new InfoRequest(), TimeSpan.FromSeconds(10)));

        Assert.Equal(StatusCode.Unavailable, e.Status);
        Assert.Equal($"cannot reach net-porter-server at {path}: connection refused (the socket file exists but no server is listening)", e.Message);
    }

    [Fact]
    public async Task A_call_cancelled_by_the_caller_is_CANCELLED()
    {
        var path = Path.Combine(_dir.Path, "net-porter.sock");
        using var channel = new UnixSocketChannel(path);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        var e = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CallAsync(PorterApi.Setup, new SetupRequest(), null, cts.Token));

        Assert.Equal(StatusCode.Cancelled, e.Status);
        Assert.Equal("Setup call was cancelled", e.Message);
    }

    [Fact]
    public async Task A_server_that_accepts_but_never_answers_runs_into_the_deadline()
    {
        var path = Path.Combine(_dir.Path, "silent.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        using var channel = new UnixSocketChannel(path);

        var e = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CallAsync(PorterApi.Info, new InfoRequest(), TimeSpan.FromMilliseconds(300)));

        Assert.Equal(StatusCode.DeadlineExceeded, e.Status);
        Assert.Equal($"net-porter-server at {path} did not answer Info within 0.3 s", e.Message);
    }

    [Fact]
    public async Task A_socket_nobody_listens_on_is_UNAVAILABLE_connection_refused()
    {
        var path = Path.Combine(_dir.Path, "stale.sock");
        using var bound = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        bound.Bind(new UnixDomainSocketEndPoint(path));
        using var channel = new UnixSocketChannel(path);

        var e = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CallAsync(PorterApi.Info, new InfoRequest(), TimeSpan.FromSeconds(10)));

        Assert.Equal(StatusCode.Unavailable, e.Status);
        Assert.Equal($"cannot reach net-porter-server at {path}: connection refused (the socket file exists but no server is listening)", e.Message);
    }
}
