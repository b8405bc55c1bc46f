using Porter.Protocol;
using Porter.Protocol.Grpc;
using Porter.Protocol.V1;
using Xunit;

namespace Porter.Tests.Protocol;

/// <summary>Only the failures that need no server: a socket path in a private temporary directory.</summary>
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
}
