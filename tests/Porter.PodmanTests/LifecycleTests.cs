using Porter.Testbed;
using Porter.Testbed.Podman;
using Xunit;
using static Porter.PodmanTests.Steps;

namespace Porter.PodmanTests;

/// <summary>What podman users do to running containers, and that every step leaves exactly what it should.</summary>
[Collection(PodmanWorldCollection.Name)]
public sealed class LifecycleTests(PodmanWorld world) : IDisposable
{
    public void Dispose() => world.Reset();

    [Fact]
    public void Stop_start_restart_kill_and_rm_keep_attachments_in_step_with_the_container()
    {
        var network = Network(world.Alice, PodmanWorld.MacvlanHostLocal);
        var container = RunDetached(world.Alice, "--network", network);
        Assert.Single(world.Records());
        world.Alice.Check("stop", container);
        Assert.Empty(world.Records());
        Assert.Empty(world.AllocatedIps(PodmanWorld.MacvlanHostLocal));

        world.Alice.Check("start", container);
        var address = Attached(world.Alice, container, network)["IPAddress"]!.GetValue<string>();
        Assert.Equal([$"{address}/24"], Ipv4(world.Alice, container, "eth0"));
        AssertLanReaches(world, address);

        world.Alice.Check("restart", container);
        address = Attached(world.Alice, container, network)["IPAddress"]!.GetValue<string>();
        Assert.Equal([$"{address}/24"], Ipv4(world.Alice, container, "eth0"));
        Assert.Equal([address], world.AllocatedIps(PodmanWorld.MacvlanHostLocal));

        // kill: the container exits, podman cleans up its network.
        world.Alice.Check("kill", container);
        Wait.Until(() => world.Records().Count == 0, TimeSpan.FromSeconds(20), "the killed container's teardown", () => world.Server.Log);
        Assert.Empty(world.AllocatedIps(PodmanWorld.MacvlanHostLocal));

        world.Alice.Check("start", container);
        Assert.Single(world.Records());
        world.Alice.Check("rm", "-f", container);
        Assert.Empty(world.Records());
        Assert.Empty(world.AllocatedIps(PodmanWorld.MacvlanHostLocal));
    }

    [Fact]
    public void Network_connect_and_disconnect_add_and_remove_an_interface_of_a_running_container()
    {
        var first = Network(world.Alice, PodmanWorld.MacvlanHostLocal);
        var second = Network(world.Alice, PodmanWorld.MacvlanDual);
        var container = RunDetached(world.Alice, "--network", first);
        world.Alice.Check("network", "connect", second, container);
        var added = Attached(world.Alice, container, second);
        var address = added["IPAddress"]!.GetValue<string>();
        Assert.StartsWith("192.168.77.8", address);
        var ifName = InterfaceWith(container, address);
        Assert.Equal(2, world.Records().Count);

        world.Alice.Check("network", "disconnect", second, container);
        Assert.Single(world.Records());
        Assert.DoesNotContain(ifName, world.Alice.Check("exec", container, "ls", "/sys/class/net").Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Empty(world.AllocatedIps(PodmanWorld.MacvlanDual));

        world.Alice.Check("rm", "-f", container);
        Assert.Empty(world.Records());
    }

    [Fact]
    public void Two_net_porter_networks_on_one_container_each_get_an_interface_and_both_go_with_it()
    {
        var first = Network(world.Alice, PodmanWorld.MacvlanHostLocal);
        var second = Network(world.Alice, PodmanWorld.BridgeNat);
        var container = RunDetached(world.Alice, "--network", $"{first},{second}");
        var a = Attached(world.Alice, container, first)["IPAddress"]!.GetValue<string>();
        var b = Attached(world.Alice, container, second)["IPAddress"]!.GetValue<string>();
        Assert.StartsWith("192.168.77.1", a);
        Assert.StartsWith("10.89.0.", b);
        // eth0/eth1 order varies between runs: find each address's interface.
        Assert.NotEqual(InterfaceWith(container, a), InterfaceWith(container, b));
        Assert.Equal(2, world.Records().Count);

        world.Alice.Check("rm", "-f", container);
        Assert.Empty(world.Records());
    }

    [Fact]
    public void A_pod_on_a_net_porter_network_gives_its_containers_the_pods_address()
    {
        var network = Network(world.Alice, PodmanWorld.MacvlanHostLocal);
        var pod = NewName("pod");
        world.Alice.Check("pod", "create", "--name", pod, "--network", network);
        var container = RunDetached(world.Alice, "--pod", pod);
        var infra = world.Alice.Inspect(world.Alice.Check("pod", "inspect", pod, "--format", "{{.InfraContainerID}}").Trim());
        var address = infra["NetworkSettings"]!["Networks"]![network]!["IPAddress"]!.GetValue<string>();
        Assert.Equal([$"{address}/24"], Ipv4(world.Alice, container, "eth0"));
        AssertLanReaches(world, address);

        world.Alice.Check("pod", "rm", "-f", "-t", "0", pod);
        Assert.Empty(world.Records());
    }

    [Fact]
    public void Another_user_with_a_copied_network_definition_is_refused_at_run_and_nothing_is_allocated()
    {
        var network = Network(world.Alice, PodmanWorld.MacvlanHostLocal);
        // mallory copies alice's network definition into her own podman (as if written by hand).
        var definition = world.Alice.Check("network", "inspect", network, "--format", "json");
        var file = $"/home/{world.MalloryUser.Name}/.local/share/containers/storage/networks/{network}.json";
        var json = System.Text.Json.Nodes.JsonNode.Parse(definition)!.AsArray().Single()!.ToJsonString();
        var copied = world.Host.AsUser(world.MalloryUser, ["sh", "-c", $"mkdir -p $(dirname {file}) && cat > {file} <<'EOF'\n{json}\nEOF"]);
        Assert.True(copied.ExitCode == 0, copied.ToString());
        Assert.Equal(0, world.Mallory.Run("network", "exists", network).ExitCode);

        AssertRunRefused(world.Mallory.Run("run", "--rm", "--network", network, PodmanHost.Image, "true"),
            "PERMISSION_DENIED", $"{world.MalloryUser.Name} (uid {world.MalloryUser.Uid}) may not use resource '{PodmanWorld.MacvlanHostLocal}'");
        Assert.Empty(world.AllocatedIps(PodmanWorld.MacvlanHostLocal));
        Assert.Empty(world.Records());
    }

    private string InterfaceWith(string container, string address)
    {
        var line = world.Alice.Check("exec", container, "ip", "-o", "addr").Split('\n')
            .Single(l => l.Contains($"inet {address}/", StringComparison.Ordinal));
        return line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
    }
}
