using System.Text.Json.Nodes;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>
/// The hand-written gRPC layer against a real gRPC implementation: Debian's python3-grpcio, as an unprivileged
/// user, over the unix socket. Statuses and messages must arrive as gRPC defines them.
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class GrpcInteropTests(LanWorld world)
{
    [Fact]
    public void Python_grpcio_sees_real_statuses_and_messages()
    {
        var dir = Path.Combine(world.Workspace.Root, "interop");
        Directory.CreateDirectory(dir);
        var descriptor = Path.Combine(dir, "porter.desc");
        Shell.Check(Protoc(), $"-I{Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Artifacts.ProtoFile)))}",
            $"--descriptor_set_out={descriptor}", "netporter/v1/porter.proto");
        var script = Path.Combine(dir, "grpc_client.py");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Interop", "grpc_client.py"), script);
        foreach (var file in new[] { dir, descriptor, script })
        {
            Shell.Check("chmod", "a+rX", file);
        }

        var result = Shell.Run("setpriv", [$"--reuid={world.Alice.Uid}", $"--regid={world.Alice.Gid}", "--init-groups", "--",
            "/usr/bin/python3", script, descriptor, world.Workspace.SocketPath, "/nonexistent"], null, TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, result.ToString());
        var calls = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonNode.Parse(line)!.AsObject())
            .ToDictionary(o => o["call"]!.GetValue<string>());

        var info = calls["info"];
        Assert.Equal("OK", info["code"]!.GetValue<string>());
        var caller = info["response"]!["caller"]!;
        Assert.Equal(world.Alice.Uid, caller["uid"]!.GetValue<uint>());
        Assert.Equal(world.Alice.Name, caller["user"]!.GetValue<string>());
        Assert.Contains(world.SocketGroup.Name, caller["groups"]!.AsArray().Select(g => g!.GetValue<string>()));
        var expected = Directory.GetFiles(world.Workspace.CniDir).Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal);
        Assert.Equal(expected,
            info["response"]!["resources"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal("1", info["response"]!["api_version"]!.GetValue<string>());

        AssertStatus(calls["unknown-method"], "UNIMPLEMENTED", "Method is unimplemented.");
        AssertStatus(calls["bad-container-id"], "INVALID_ARGUMENT",
            "container_id 'abc;rm -rf /' may only contain letters, digits, '_', '.' and '-', starting with a letter or digit");
        AssertStatus(calls["unknown-resource"], "NOT_FOUND", "resource 'nope' is not configured on this server");
        AssertStatus(calls["missing-netns"], "NOT_FOUND", "netns path /nonexistent/netns does not exist");
        Assert.Equal("OK", calls["teardown-nothing"]["code"]!.GetValue<string>());
        Assert.Contains("nothing is attached", calls["teardown-nothing"]["response"]!["warnings"]![0]!.GetValue<string>());
    }

    private static void AssertStatus(JsonObject call, string code, string details)
    {
        Assert.Equal(code, call["code"]!.GetValue<string>());
        Assert.Equal(details, call["details"]!.GetValue<string>());
    }

    /// <summary>protoc as shipped in the Grpc.Tools package the build restored.</summary>
    private static string Protoc()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var candidates = Directory.Exists(Path.Combine(packages, "grpc.tools"))
            ? Directory.GetFiles(Path.Combine(packages, "grpc.tools"), "protoc", SearchOption.AllDirectories).Where(f => f.Contains("linux_x64", StringComparison.Ordinal))
            : [];
        return candidates.Order().LastOrDefault() ?? throw new TestbedException($"protoc from Grpc.Tools not found under {packages}: run dotnet restore");
    }

    [Fact]
    public async Task The_standard_health_service_says_serving_on_the_main_socket()
    {
        var handler = new System.Net.Http.SocketsHttpHandler
        {
            ConnectCallback = async (_, token) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(world.Workspace.SocketPath), token);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress("http://localhost", new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = handler });
        var health = new Grpc.Health.V1.Health.HealthClient(channel);

        var reply = await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));

        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }
}
