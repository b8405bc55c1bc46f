using Porter.Testbed;
using Porter.Testbed.Podman;
using Xunit;
using static Porter.PodmanTests.Steps;

namespace Porter.PodmanTests;

/// <summary>
/// `podman run --network N` on macvlan resources: the address podman reports is the one inside, and traffic flows
/// both ways. (Whatever a case leaves, failing or not, the world's reset after it removes.)
/// </summary>
[Collection(PodmanWorldCollection.Name)]
public sealed class MacvlanRunTests(PodmanWorld world) : IDisposable
{
    public void Dispose() => world.Reset();

    [Fact]
    public void A_container_on_a_macvlan_network_has_the_address_podman_reports_and_talks_to_the_lan_both_ways()
    {
        var network = Network(world.Alice, PodmanWorld.MacvlanHostLocal);
        var container = RunDetached(world.Alice, "--network", network, "--cap-add", "NET_RAW");

        var attached = Attached(world.Alice, container, network);
        var address = attached["IPAddress"]!.GetValue<string>();
        Assert.StartsWith("192.168.77.1", address);
        Assert.Equal(ScratchLan.Gateway, attached["Gateway"]!.GetValue<string>());
        Assert.Equal([$"{address}/24"], Ipv4(world.Alice, container, "eth0"));
        Assert.Equal(attached["MacAddress"]!.GetValue<string>(), world.Alice.Check("exec", container, "cat", "/sys/class/net/eth0/address").Trim());
        Assert.Contains(address, world.AllocatedIps(PodmanWorld.MacvlanHostLocal));

        AssertContainerReaches(world.Alice, container, ScratchLan.Gateway);
        AssertLanReaches(world, address);

        // The resource's DNS settings reach resolv.conf; pasta's unreachable 169.254.1.1 does not.
        var resolv = world.Alice.Check("exec", container, "cat", "/etc/resolv.conf");
        Assert.Contains($"nameserver {PodmanWorld.ResourceDns}", resolv);
        Assert.Contains("search lan.test", resolv);
        Assert.DoesNotContain("169.254.1.1", resolv);

        world.Alice.Check("rm", "-f", container);
        Assert.DoesNotContain(address, world.AllocatedIps(PodmanWorld.MacvlanHostLocal));
        Assert.DoesNotContain(world.Records(), r => r.StartsWith(PodmanWorld.MacvlanHostLocal, StringComparison.Ordinal));
    }

    [Fact]
    public void A_container_run_with_rm_releases_its_address_when_it_exits()
    {
        var network = Network(world.Alice, PodmanWorld.MacvlanHostLocal);
        var before = world.AllocatedIps(PodmanWorld.MacvlanHostLocal);

        var shown = world.Alice.Check("run", "--rm", "--network", network, PodmanHost.Image, "ip", "-4", "-o", "addr", "show", "dev", "eth0");

        Assert.Contains("inet 192.168.77.1", shown);
        Assert.Equal(before, world.AllocatedIps(PodmanWorld.MacvlanHostLocal));
        Assert.Empty(world.Records());
    }

    [Fact]
    public void A_mac_address_inside_the_grant_is_used_and_one_outside_is_refused_with_nothing_left()
    {
        var network = Network(world.Alice, PodmanWorld.MacvlanHostLocal);
        var container = RunDetached(world.Alice, "--network", network, "--mac-address", "02:42:c0:a8:4d:10");
        Assert.Equal("02:42:c0:a8:4d:10", world.Alice.Check("exec", container, "cat", "/sys/class/net/eth0/address").Trim());
        Assert.Equal("02:42:c0:a8:4d:10", Attached(world.Alice, container, network)["MacAddress"]!.GetValue<string>());
        world.Alice.Check("rm", "-f", container);

        var allocated = world.AllocatedIps(PodmanWorld.MacvlanHostLocal);
        var refused = world.Alice.Run("run", "--rm", "--network", network, "--mac-address", "02:42:c0:a8:4e:10", PodmanHost.Image, "true");
        AssertRunRefused(refused, "PERMISSION_DENIED", "02:42:c0:a8:4e:10");
        Assert.Equal(allocated, world.AllocatedIps(PodmanWorld.MacvlanHostLocal));
        Assert.Empty(world.Records());
    }

    [Fact]
    public void A_subnet_network_gets_podmans_addresses_and_ip_is_bounded_by_the_grant()
    {
        // podman assigns from the ip range (inside alice's grant); the resource's static IPAM applies them.
        var network = Network(world.Alice, PodmanWorld.MacvlanStatic, "--subnet", ScratchLan.Subnet, "--gateway", ScratchLan.Gateway, "--ip-range", PodmanWorld.GrantedIps);
        var picked = RunDetached(world.Alice, "--network", network, "--cap-add", "NET_RAW");
        var chosen = RunDetached(world.Alice, "--network", network, "--ip", "192.168.77.40");

        var address = Attached(world.Alice, picked, network)["IPAddress"]!.GetValue<string>();
        Assert.Matches(@"^192\.168\.77\.(3[2-9]|[45][0-9]|6[0-3])$", address);
        Assert.Equal([$"{address}/24"], Ipv4(world.Alice, picked, "eth0"));
        Assert.Equal(ScratchLan.Gateway, Attached(world.Alice, picked, network)["Gateway"]!.GetValue<string>());
        AssertContainerReaches(world.Alice, picked, ScratchLan.Gateway);
        Assert.Equal(["192.168.77.40/24"], Ipv4(world.Alice, chosen, "eth0"));

        var outside = Network(world.Alice, PodmanWorld.MacvlanStatic, "--subnet", ScratchLan.Subnet, "--gateway", ScratchLan.Gateway);
        AssertRunRefused(world.Alice.Run("run", "--rm", "--network", outside, "--ip", "192.168.77.99", PodmanHost.Image, "true"),
            "PERMISSION_DENIED", "192.168.77.99");

        world.Alice.Check("rm", "-f", picked, chosen);
        Assert.Empty(world.Records());
    }

    [Fact]
    public void A_dual_stack_resource_gives_both_families_as_podman_reports_them()
    {
        var network = Network(world.Alice, PodmanWorld.MacvlanDual);
        var container = RunDetached(world.Alice, "--network", network);

        var attached = Attached(world.Alice, container, network);
        var v4 = attached["IPAddress"]!.GetValue<string>();
        var v6 = attached["GlobalIPv6Address"]!.GetValue<string>();
        Assert.StartsWith("192.168.77.8", v4);
        Assert.StartsWith("fd77:77::1", v6);
        Assert.Equal(ScratchLan.Gateway6, attached["IPv6Gateway"]!.GetValue<string>());
        var inside = world.Alice.Check("exec", container, "ip", "-o", "addr", "show", "dev", "eth0");
        Assert.Contains($"inet {v4}/24", inside);
        Assert.Contains($"inet6 {v6}/64", inside);
        AssertLanReaches(world, v6);
    }

    [Fact]
    public void Ip6_inside_the_grant_is_used_on_a_dual_subnet_network_and_one_outside_is_refused()
    {
        var network = Network(world.Alice, PodmanWorld.MacvlanStatic, "--ipv6",
            "--subnet", ScratchLan.Subnet, "--gateway", ScratchLan.Gateway, "--ip-range", PodmanWorld.GrantedIps,
            "--subnet", ScratchLan.Subnet6, "--gateway", ScratchLan.Gateway6, "--ip-range", "fd77:77::20/124");
        var container = RunDetached(world.Alice, "--network", network, "--ip6", "fd77:77::21");

        Assert.Equal("fd77:77::21", Attached(world.Alice, container, network)["GlobalIPv6Address"]!.GetValue<string>());
        Assert.Contains("inet6 fd77:77::21/64", world.Alice.Check("exec", container, "ip", "-6", "-o", "addr", "show", "dev", "eth0"));
        AssertLanReaches(world, "fd77:77::21");

        AssertRunRefused(world.Alice.Run("run", "--rm", "--network", network, "--ip6", "fd77:77::99", PodmanHost.Image, "true"),
            "PERMISSION_DENIED", "fd77:77::99");

        world.Alice.Check("rm", "-f", container);
        Assert.Empty(world.Records());
    }
}
