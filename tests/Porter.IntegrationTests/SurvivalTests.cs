using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>
/// State that survives anything: teardown works when the namespace is gone, the master NIC vanished, the resource
/// was removed or the grant revoked; containers that die without a teardown, and attachments from before a reboot,
/// are garbage-collected. Nothing blocks the next start of a container.
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class SurvivalTests(LanWorld world)
{
    private static string Address(System.Text.Json.Nodes.JsonObject status) =>
        status["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>().Split('/')[0];

    [Fact]
    public void Teardown_after_the_namespace_is_gone_releases_the_address()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal), NetavarkJson.NewContainerId(), "gone");
        var address = Address(Observe.Success(caller.Plugin("setup", netns, exec), world.Server));
        caller.RemoveContainerNetns(netns);

        // netavark >= 2.1 still calls teardown, with the path that no longer exists.
        var teardown = caller.Plugin("teardown", netns, exec);

        Assert.True(teardown.ExitCode == 0, teardown.ToString());
        Assert.DoesNotContain(address, world.AllocatedIps(LanWorld.MacvlanHostLocal));
        Assert.DoesNotContain(world.CachedAttachments(), f => f.Contains(JsonId(exec), StringComparison.Ordinal));
    }

    [Fact]
    public void Teardown_after_the_master_nic_vanished_releases_what_it_can_and_the_next_start_works()
    {
        world.CreateSpareUplink();
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanSpareUplink), NetavarkJson.NewContainerId(), "orphan");
        var address = Address(Observe.Success(caller.Plugin("setup", netns, exec), world.Server));
        Shell.Check("ip", "-n", world.Lan.HostNs, "link", "del", LanWorld.SpareUplink);

        var teardown = caller.Plugin("teardown", netns, exec);

        Assert.True(teardown.ExitCode == 0, teardown.ToString());
        Assert.Contains($"net-porter: warning: teardown of container {JsonId(exec)} (eth0) on resource '{LanWorld.MacvlanSpareUplink}' was incomplete: CNI plugin 'macvlan' failed (DEL)", teardown.Stderr);
        Assert.DoesNotContain(address, world.AllocatedIps(LanWorld.MacvlanSpareUplink));
        Assert.DoesNotContain(world.CachedAttachments(), f => f.Contains(JsonId(exec), StringComparison.Ordinal));

        // The NIC comes back; the same container starts again.
        world.CreateSpareUplink();
        Observe.Success(caller.Plugin("setup", netns, exec), world.Server);
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
    }

    [Fact]
    public void Teardown_works_after_the_grant_was_revoked_or_the_resource_removed()
    {
        using var workspace = Workspace.Create();
        workspace.CopyFrom(world.Workspace);
        string Config(string resources) => $$"""
            {
              "domain_socket": { "path": "{{workspace.SocketPath}}", "group": "{{world.SocketGroup.Name}}" },
              "resources": [{{resources}}],
              "state_dir": "{{workspace.StateDir}}",
              "user_sockets": { "runtime_dir": "{{workspace.UserRuntimeRoot}}" }
            }
            """;
        // alice keeps a grant on mv-l2 throughout, so her socket stays.
        var l2 = $$"""{ "name": "{{LanWorld.MacvlanL2}}", "allow_users": ["{{world.Alice.Name}}"] }""";
        workspace.WriteConfig(Config($$"""{ "name": "{{LanWorld.MacvlanHostLocal}}", "allow_users": ["{{world.Alice.Name}}"] }, {{l2}}"""));
        workspace.RuntimeDirOf(world.Alice);
        using var server = PorterServerProcess.Start(world.Lan, workspace);
        Wait.UntilAccepting(workspace.UserSocketOf(world.Alice), TimeSpan.FromSeconds(15), "alice's socket", () => server.Log);
        using var caller = RootlessCaller.Start(world.Alice, workspace);
        var network = NetavarkJson.Network("hl", LanWorld.MacvlanHostLocal, null);
        var hostLocal = Path.Combine(workspace.StateDir, "host-local", LanWorld.MacvlanHostLocal);
        void Reload(int expectedReloads)
        {
            server.Reload();
            Wait.Until(() => server.Log.Split("configuration reloaded").Length - 1 >= expectedReloads || server.Log.Contains("configuration not reloaded", StringComparison.Ordinal),
                TimeSpan.FromSeconds(10), "reload", () => server.Log);
            Assert.DoesNotContain("configuration not reloaded", server.Log);
        }

        // The grant is revoked while the container runs.
        var revokedNetns = caller.CreateContainerNetns();
        var revokedExec = NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), "revoked");
        Observe.Success(caller.Plugin("setup", revokedNetns, revokedExec), server);
        workspace.WriteConfig(Config($$"""{ "name": "{{LanWorld.MacvlanHostLocal}}", "allow_users": [] }, {{l2}}"""));
        Reload(1);
        Assert.StartsWith("PERMISSION_DENIED", Observe.Error(caller.Plugin("setup", caller.CreateContainerNetns(), NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), "new"))));
        Assert.Equal(0, caller.Plugin("teardown", revokedNetns, revokedExec).ExitCode);
        Assert.Null(Observe.Link(caller, revokedNetns, "eth0"));

        // The resource is removed altogether (its CNI file too) while another container runs.
        workspace.WriteConfig(Config($$"""{ "name": "{{LanWorld.MacvlanHostLocal}}", "allow_users": ["{{world.Alice.Name}}"] }, {{l2}}"""));
        Reload(2);
        var removedNetns = caller.CreateContainerNetns();
        var removedExec = NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), "removed");
        Observe.Success(caller.Plugin("setup", removedNetns, removedExec), server);
        File.Delete(Path.Combine(workspace.CniDir, $"{LanWorld.MacvlanHostLocal}.conflist"));
        workspace.WriteConfig(Config(l2));
        Reload(3);

        var teardown = caller.Plugin("teardown", removedNetns, removedExec);
        Assert.True(teardown.ExitCode == 0, $"{teardown}\n{server.Log}");
        Assert.Null(Observe.Link(caller, removedNetns, "eth0"));
        Assert.DoesNotContain(Directory.GetFiles(hostLocal), f => System.Net.IPAddress.TryParse(Path.GetFileName(f), out _));
    }

    [Fact]
    public void Attachments_of_dead_containers_are_collected_and_running_ones_are_not()
    {
        using var workspace = Workspace.Create();
        workspace.CopyFrom(world.Workspace);
        var config = File.ReadAllText(workspace.ConfigPath);
        Assert.Contains("\"gc_interval_seconds\": 2,", config);
        workspace.WriteConfig(config.Replace("\"gc_interval_seconds\": 2,", "\"gc_interval_seconds\": 1,", StringComparison.Ordinal));
        workspace.RuntimeDirOf(world.Alice);
        using var server = PorterServerProcess.Start(world.Lan, workspace);
        Wait.UntilAccepting(workspace.UserSocketOf(world.Alice), TimeSpan.FromSeconds(15), "alice's socket", () => server.Log);
        using var caller = RootlessCaller.Start(world.Alice, workspace);
        var network = NetavarkJson.Network("hl", LanWorld.MacvlanHostLocal, null);
        var results = Path.Combine(workspace.StateDir, "cni", "results");
        var hostLocal = Path.Combine(workspace.StateDir, "host-local", LanWorld.MacvlanHostLocal);

        var running = caller.CreateContainerNetns();
        var runningExec = NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), "alive");
        var runningAddress = Address(Observe.Success(caller.Plugin("setup", running, runningExec), server));
        var dying = caller.CreateContainerNetns();
        var dyingId = NetavarkJson.NewContainerId();
        var dyingAddress = Address(Observe.Success(caller.Plugin("setup", dying, NetavarkJson.Exec(network, dyingId, "dies")), server));

        // The container is killed and nobody tears it down (podman crashed).
        caller.KillContainer(dying);

        // (The log line comes after the record is gone: wait for it, not just for the record.)
        Wait.Until(() => server.Log.Contains("no process is left in its network namespace (the container is gone)", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20), "collection", () => server.Log);
        Assert.DoesNotContain(Directory.GetFiles(results), f => f.Contains(dyingId, StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(hostLocal, dyingAddress)));
        // Several passes later the running container is untouched.
        Thread.Sleep(TimeSpan.FromSeconds(3));
        Assert.True(File.Exists(Path.Combine(hostLocal, runningAddress)));
        Assert.NotNull(Observe.Link(caller, running, "eth0"));
        Assert.Equal(0, caller.Plugin("teardown", running, runningExec).ExitCode);
    }

    [Fact]
    public void Attachments_from_before_a_reboot_are_released_at_start()
    {
        using var workspace = Workspace.Create();
        workspace.CopyFrom(world.Workspace);
        workspace.RuntimeDirOf(world.Alice);
        var results = Path.Combine(workspace.StateDir, "cni", "results");
        var hostLocal = Path.Combine(workspace.StateDir, "host-local", LanWorld.MacvlanHostLocal);
        string id;
        string address;
        using (var server = PorterServerProcess.Start(world.Lan, workspace))
        {
            Wait.UntilAccepting(workspace.UserSocketOf(world.Alice), TimeSpan.FromSeconds(15), "alice's socket", () => server.Log);
            using var caller = RootlessCaller.Start(world.Alice, workspace);
            id = NetavarkJson.NewContainerId();
            address = Address(Observe.Success(caller.Plugin("setup", caller.CreateContainerNetns(), NetavarkJson.Exec(NetavarkJson.Network("hl", LanWorld.MacvlanHostLocal, null), id, "old")), server));
            server.Crash();
        }
        // Pretend the host rebooted since: the record names another boot.
        var record = Directory.GetFiles(results).Single(f => f.Contains(id, StringComparison.Ordinal));
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(record))!;
        json["netPorter"]!["bootId"] = "00000000-0000-0000-0000-000000000000";
        File.WriteAllText(record, json.ToJsonString());

        using var restarted = PorterServerProcess.Start(world.Lan, workspace);

        Wait.Until(() => restarted.Log.Contains("it was made before the host last booted", StringComparison.Ordinal), TimeSpan.FromSeconds(15), "release at start", () => restarted.Log);
        Assert.False(File.Exists(record));
        Assert.False(File.Exists(Path.Combine(hostLocal, address)));
    }

    private static string JsonId(string exec) => System.Text.Json.Nodes.JsonNode.Parse(exec)!["container_id"]!.GetValue<string>();
}
