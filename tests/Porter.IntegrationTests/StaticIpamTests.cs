using System.Text.Json.Nodes;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;
using Xunit.Abstractions;

namespace Porter.IntegrationTests;

/// <summary>
/// Static IPAM fed by podman: with a subnet on the podman network, podman picks the address and passes it in
/// static_ips; the server adds the subnet's prefix, which static IPAM requires. Also ipvlan, where the kernel has it.
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class StaticIpamTests(LanWorld world, ITestOutputHelper output)
{
    private static readonly NetavarkJson.Subnet LanSubnet = new(ScratchLan.Subnet, ScratchLan.Gateway);

    [Fact]
    public void Podmans_static_ip_is_assigned_with_its_subnets_prefix()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanStatic, [LanSubnet]), NetavarkJson.NewContainerId(), "st", staticIps: ["192.168.77.42"]);

        var status = Observe.Success(caller.Plugin("setup", netns, exec), world.Server);

        var subnet = status["interfaces"]!["eth0"]!["subnets"]!.AsArray().Single()!;
        Assert.Equal("192.168.77.42/24", subnet["ipnet"]!.GetValue<string>());
        Assert.Equal(ScratchLan.Gateway, subnet["gateway"]!.GetValue<string>());
        Assert.Equal(["192.168.77.42/24"], Observe.Ipv4Addresses(Observe.Link(caller, netns, "eth0")!));
        var ping = caller.InNetns(netns, $"ping -c 1 -W 3 {ScratchLan.Gateway}");
        Assert.True(ping.ExitCode == 0, ping.ToString());

        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
        Assert.Null(Observe.Link(caller, netns, "eth0"));
    }

    [Fact]
    public void A_static_ip_outside_every_subnet_is_refused_before_anything_runs()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanStatic), NetavarkJson.NewContainerId(), "st", staticIps: ["10.9.9.9"]);

        var error = Observe.Error(caller.Plugin("setup", netns, exec));

        Assert.StartsWith("INVALID_ARGUMENT: static IP 10.9.9.9 lies in none of the network's subnets", error);
        Assert.Equal(["lo"], Observe.LinkNames(caller, netns));
    }

    [Fact]
    public void Ipvlan_attaches_where_the_kernel_has_it_and_fails_cleanly_where_it_does_not()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var id = NetavarkJson.NewContainerId();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.IpvlanStatic, [LanSubnet]), id, "ipv", staticIps: ["192.168.77.43"]);

        var result = caller.Plugin("setup", netns, exec);

        if (!KernelSupport.Ipvlan)
        {
            output.WriteLine("this kernel has no ipvlan: checking that the failure is reported and leaves nothing behind");
            var error = Observe.Error(result);
            Assert.StartsWith($"FAILED_PRECONDITION: setup of container {id} (eth0) on resource '{LanWorld.IpvlanStatic}' failed: CNI plugin 'ipvlan' failed (ADD)", error);
            Assert.Equal(["lo"], Observe.LinkNames(caller, netns));
            Assert.DoesNotContain(world.CachedAttachments(), f => f.Contains(id, StringComparison.Ordinal));
            return;
        }
        var eth0 = Observe.Success(result, world.Server)["interfaces"]!["eth0"]!;
        Assert.Equal("192.168.77.43/24", eth0["subnets"]![0]!["ipnet"]!.GetValue<string>());
        Assert.Equal("ipvlan", Observe.LinkKind(caller, netns, "eth0"));
        // ipvlan shares the parent's MAC, and the StatusBlock must say so.
        var uplinkMac = JsonNode.Parse(world.Lan.InHost("ip", "-j", "link", "show", "dev", ScratchLan.Uplink).Stdout)![0]!["address"]!.GetValue<string>();
        Assert.Equal(uplinkMac, eth0["mac_address"]!.GetValue<string>());
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
        Assert.Null(Observe.Link(caller, netns, "eth0"));
    }

    [Fact]
    public void A_static_mac_is_refused_for_ipvlan()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.IpvlanStatic, [LanSubnet]), NetavarkJson.NewContainerId(), "ipv", staticIps: ["192.168.77.44"], staticMac: "02:00:00:00:00:01");

        var error = Observe.Error(caller.Plugin("setup", netns, exec));

        Assert.Equal($"INVALID_ARGUMENT: resource '{LanWorld.IpvlanStatic}' is ipvlan, whose interfaces share the parent's MAC address; a static MAC cannot be used with it", error);
        Assert.Equal(["lo"], Observe.LinkNames(caller, netns));
    }
}
