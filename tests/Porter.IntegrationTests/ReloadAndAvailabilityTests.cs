using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>Configuration reloads (SIGHUP) swap a validated configuration in whole; a missing server is reported plainly.</summary>
[Collection(LanWorldCollection.Name)]
public sealed class ReloadAndAvailabilityTests(LanWorld world)
{
    [Fact]
    public void Sighup_applies_a_valid_configuration_and_keeps_the_old_one_when_the_new_one_is_broken()
    {
        using var workspace = Workspace.Create();
        workspace.CopyFrom(world.Workspace);
        string Config(string users) => $$"""
            {
              "domain_socket": { "path": "{{workspace.SocketPath}}", "group": "{{world.SocketGroup.Name}}" },
              "resources": [{ "name": "{{LanWorld.MacvlanL2}}", "allow_users": [{{users}}] }],
              "state_dir": "{{workspace.StateDir}}"
            }
            """;
        workspace.WriteConfig(Config(""));
        using var server = PorterServerProcess.Start(world.Lan, workspace);
        using var caller = RootlessCaller.Start(world.Mallory, workspace);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(NetavarkJson.Network("l2", LanWorld.MacvlanL2, workspace.SocketPath), NetavarkJson.NewContainerId(), "reload");

        Assert.StartsWith("PERMISSION_DENIED: ", Observe.Error(caller.Plugin("setup", netns, exec)));

        workspace.WriteConfig(Config($"\"{world.Mallory.Name}\""));
        server.Reload();
        Wait.Until(() => server.Log.Contains("configuration reloaded", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "reload", () => server.Log);
        Observe.Success(caller.Plugin("setup", netns, exec), server);
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);

        // A broken file is refused as a whole: the running configuration (with the grant) stays.
        workspace.WriteConfig(Config($"\"{world.Mallory.Name}\"").Replace("\"resources\"", "\"resources\" oops", StringComparison.Ordinal));
        server.Reload();
        Wait.Until(() => server.Log.Contains("configuration not reloaded", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "refused reload", () => server.Log);
        Assert.True(server.Log.Contains($"configuration not reloaded: {workspace.ConfigPath}:3:15: invalid JSON: 'o' is invalid after a property name. Expected a ':'.", StringComparison.Ordinal), server.Log);
        Observe.Success(caller.Plugin("setup", netns, exec), server);
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
        Assert.False(server.HasExited);
    }

    [Fact]
    public async Task A_setup_under_way_finishes_on_the_configuration_it_began_with_when_a_reload_swaps_it()
    {
        using var workspace = Workspace.Create();
        // Two plugin directories with the real plugins, a "gate" that holds an ADD until told, and a "marker" that
        // succeeds in the first directory and fails in the second: a setup that mixed the two configurations fails.
        var first = GatePlugins.Create(workspace, "plugins-a", markerFails: false);
        var second = GatePlugins.Create(workspace, "plugins-b", markerFails: true);
        File.WriteAllText(Path.Combine(second, "gate.go"), ""); // the second directory's gate never holds
        workspace.WriteCni("mv-gate.conflist", $$"""
            {
              "cniVersion": "1.0.0", "name": "mv-gate",
              "plugins": [
                { "type": "macvlan", "master": "{{ScratchLan.Uplink}}",
                  "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{ScratchLan.Subnet}}", "rangeStart": "192.168.77.190", "rangeEnd": "192.168.77.199" }]] } },
                { "type": "gate" },
                { "type": "marker" }
              ]
            }
            """);
        string Config(string pluginDir) => $$"""
            {
              "domain_socket": { "path": "{{workspace.SocketPath}}", "group": "{{world.SocketGroup.Name}}" },
              "resources": [{ "name": "mv-gate", "allow_users": ["{{world.Alice.Name}}"] }],
              "cni_plugin_dir": "{{pluginDir}}",
              "state_dir": "{{workspace.StateDir}}",
              "user_sockets": { "runtime_dir": "{{workspace.UserRuntimeRoot}}" }
            }
            """;
        workspace.WriteConfig(Config(first));
        workspace.RuntimeDirOf(world.Alice);
        using var server = PorterServerProcess.Start(world.Lan, workspace);
        Wait.UntilAccepting(workspace.UserSocketOf(world.Alice), TimeSpan.FromSeconds(15), "alice's socket", () => server.Log);
        using var caller = RootlessCaller.Start(world.Alice, workspace);
        using var other = RootlessCaller.Start(world.Alice, workspace);
        var network = NetavarkJson.Network("gate", "mv-gate", null);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), "held");

        var setup = Task.Run(() => caller.Plugin("setup", netns, exec));
        Wait.Until(() => File.Exists(Path.Combine(first, "gate.started")), TimeSpan.FromSeconds(20), "the held ADD", () => server.Log);
        workspace.WriteConfig(Config(second));
        server.Reload();
        Wait.Until(() => server.Log.Contains("configuration reloaded", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "reload", () => server.Log);
        File.WriteAllText(Path.Combine(first, "gate.go"), "");

        var status = Observe.Success(await setup.WaitAsync(TimeSpan.FromSeconds(60)), server);
        Assert.StartsWith("192.168.77.19", status["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>());
        // A setup that begins after the reload has the new configuration (whose marker fails).
        var later = Observe.Error(other.Plugin("setup", other.CreateContainerNetns(), NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), "later")));
        Assert.Contains("the marker of plugins-b ran", later);
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
        Assert.Null(Observe.Link(caller, netns, "eth0"));
    }

    [Fact]
    public void No_server_on_the_socket_is_reported_as_unavailable()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var missing = Path.Combine(world.Workspace.RunDir, "nobody-here.sock");
        var exec = NetavarkJson.Exec(NetavarkJson.Network("gone", LanWorld.MacvlanHostLocal, missing), NetavarkJson.NewContainerId(), "x");

        Assert.Equal(
            $"UNAVAILABLE: cannot reach net-porter-server at {missing}: the socket does not exist (is net-porter-server running, and is this the right path?)",
            Observe.Error(caller.Plugin("setup", netns, exec)));
    }

    [Fact]
    public void A_broken_cni_file_stops_the_server_at_start_with_its_location()
    {
        using var workspace = Workspace.Create();
        workspace.WriteCni("bad.conflist", "{\n  \"cniVersion\": \"1.0.0\",\n  \"name\": \"bad\",\n  \"plugins\": [{ \"type\": \"../../bin/sh\" }]\n}\n");
        workspace.WriteConfig($$"""{ "state_dir": "{{workspace.StateDir}}", "domain_socket": { "path": "{{workspace.SocketPath}}" } }""");

        var result = Shell.Run(Artifacts.ServerBinary, "--config", workspace.ConfigPath);

        Assert.Equal(78, result.ExitCode);
        Assert.Equal(
            $"net-porter-server: {workspace.CniDir}/bad.conflist:4:25: plugins[0].type: '../../bin/sh' is not a valid plugin type (a file name in the plugin directory)",
            result.Stderr.Trim());
    }
}
