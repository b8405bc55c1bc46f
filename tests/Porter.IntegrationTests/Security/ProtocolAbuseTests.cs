using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Porter.IntegrationTests.Infrastructure;
using Porter.Protocol;
using Porter.Protocol.V1;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests.Security;

/// <summary>
/// Straight at the socket, past the plugin: bytes that are not HTTP/2, gRPC bodies that lie about their size or are
/// not protobuf, and a client that connects and never speaks. Each is refused or dropped; the server carries on.
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class ProtocolAbuseTests(LanWorld world)
{
    [Fact]
    public void Bytes_that_are_not_http2_are_dropped()
    {
        var before = WorldState.Of(world);
        var random = new byte[64 * 1024];
        new Random(42).NextBytes(random);

        foreach (var garbage in new[]
        {
            Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
            random,
            Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").Concat(random).ToArray(),
        })
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(world.Workspace.SocketPath));
            try
            {
                socket.Send(garbage);
            }
            catch (SocketException)
            {
                // the server may hang up while the garbage is still being written
            }
            Assert.True(ClosedByServer(socket, TimeSpan.FromSeconds(15)), "the server kept a connection open after garbage");
        }

        before.AssertUnchanged(world);
        Abuse.AssertStillServing(world);
    }

    [Fact]
    public async Task Grpc_bodies_that_lie_or_are_not_protobuf_get_grpc_errors()
    {
        var before = WorldState.Of(world);
        var socket = world.Workspace.SocketPath;
        var setup = $"/{PorterApi.ServiceName}/Setup";

        // What grpc-dotnet answers, as configured (1 MiB receive limit, no detailed errors).
        var huge = await RawGrpc.PostAsync(socket, setup, RawGrpc.Frame(0, 2_000_000, new byte[16]));
        Assert.Equal(new RawReply(200, "8", "Received message exceeds the maximum configured message size."), huge);

        // A length beyond 2^31 trips grpc-dotnet itself (UNKNOWN); the call is refused all the same.
        var absurd = await RawGrpc.PostAsync(socket, setup, RawGrpc.Frame(0, uint.MaxValue, new byte[16]));
        Assert.Equal(new RawReply(200, "2", "Exception was thrown by handler."), absurd);

        var compressed = await RawGrpc.PostAsync(socket, setup, RawGrpc.Frame(1, 4, new byte[4]));
        Assert.Equal(new RawReply(200, "13", "Request did not include grpc-encoding value with compressed message."), compressed);

        var truncated = await RawGrpc.PostAsync(socket, setup, RawGrpc.Frame(0, 100, new byte[10]));
        Assert.Equal(new RawReply(200, "13", "Incomplete message."), truncated);

        // Not protobuf: the message cannot be read, so no handler runs (and no caller check is needed for that).
        var notProtobuf = await RawGrpc.PostAsync(socket, setup, RawGrpc.Frame(0, 6, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
        Assert.Equal(new RawReply(200, "2", "Exception was thrown by handler."), notProtobuf);

        var twoMessages = RawGrpc.Frame(0, 0, []).Concat(RawGrpc.Frame(0, 0, [])).ToArray();
        Assert.Equal(new RawReply(200, "13", "Additional data after the message received."), await RawGrpc.PostAsync(socket, setup, twoMessages));

        Assert.Equal(415, (await RawGrpc.PostAsync(socket, setup, RawGrpc.Frame(0, 0, []), contentType: "application/json")).HttpStatus);
        Assert.Equal(404, (await RawGrpc.PostAsync(socket, setup, [], method: "PUT")).HttpStatus);

        // An honest client with a message over the 1 MiB limit.
        using (var client = new PorterClient(socket, TimeSpan.FromSeconds(30)))
        {
            var request = new SetupRequest { Resource = LanWorld.MacvlanHostLocal, ContainerId = "big", InterfaceName = "eth0", ContainerName = new string('x', 2 * 1024 * 1024) };
            var e = await Assert.ThrowsAsync<RpcException>(() => client.SetupAsync(request));
            Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
            Assert.Equal("Received message exceeds the maximum configured message size.", e.Status.Detail);
        }

        before.AssertUnchanged(world);
        Abuse.AssertStillServing(world);
    }

    [Fact]
    public void A_client_that_connects_and_never_sends_is_dropped()
    {
        var before = WorldState.Of(world);
        using var silent = Abuse.RawClient(world, world.Mallory, "silent", world.Workspace.SocketPath, "60");

        // While it waits, everyone else is served.
        Abuse.AssertStillServing(world);

        var result = JsonNode.Parse(silent.WaitForExit(TimeSpan.FromSeconds(90)).Stdout)!;
        Assert.True(result["closed"]!.GetValue<bool>(), $"still open after {result["after"]} s");
        Assert.True(result["after"]!.GetValue<double>() <= 15, $"closed only after {result["after"]} s");
        before.AssertUnchanged(world);
    }

    private static bool ClosedByServer(Socket socket, TimeSpan within)
    {
        var buffer = new byte[65536];
        var deadline = DateTime.UtcNow + within;
        socket.ReceiveTimeout = 500;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (socket.Receive(buffer) == 0)
                {
                    return true;
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                // still open; keep waiting
            }
            catch (SocketException)
            {
                return true; // reset
            }
        }
        return false;
    }
}
