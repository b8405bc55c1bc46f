using System.Text.Json.Nodes;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>IPv6: dual-stack host-local, static IPv6 from podman, and SLAAC addresses the LAN's router advertises.</summary>
[Collection(LanWorldCollection.Name)]
public sealed class Ipv6Tests(LanWorld world)
{
    private static IReadOnlyList<(string Ipnet, string? Gateway)> Subnets(JsonObject status) =>
        status["interfaces"]!["eth0"]!["subnets"]!.AsArray()
            .Select(s => (s!["ipnet"]!.GetValue<string>(), s["gateway"]?.GetValue<string>())).ToList();

    [Fact]
    public void Dual_stack_host_local_gives_one_address_of_each_family()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanDualStack), NetavarkJson.NewContainerId(), "dual");

        var subnets = Subnets(Observe.Success(caller.Plugin("setup", netns, exec), world.Server));

        Assert.Equal(2, subnets.Count);
        Assert.StartsWith("192.168.77.8", subnets[0].Ipnet);
        Assert.Equal(ScratchLan.Gateway, subnets[0].Gateway);
        Assert.StartsWith("fd77:77::1", subnets[1].Ipnet);
        Assert.EndsWith("/64", subnets[1].Ipnet);
        Assert.Equal(ScratchLan.Gateway6, subnets[1].Gateway);
        var ping6 = caller.InNetns(netns, $"ping -6 -c 1 -W 3 {ScratchLan.Gateway6}");
        Assert.True(ping6.ExitCode == 0, ping6.ToString());
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
        Assert.DoesNotContain(world.AllocatedIps(LanWorld.MacvlanDualStack), ip => ip.Contains(':'));
    }

    [Fact]
    public void Static_ipv4_and_ipv6_from_podman_are_both_assigned()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var network = world.Network(LanWorld.MacvlanStatic, [new(ScratchLan.Subnet, ScratchLan.Gateway), new(ScratchLan.Subnet6, ScratchLan.Gateway6)]);
        var exec = NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), "static6", staticIps: ["192.168.77.45", "fd77:77::45"]);

        var subnets = Subnets(Observe.Success(caller.Plugin("setup", netns, exec), world.Server));

        Assert.Equal([("192.168.77.45/24", ScratchLan.Gateway), ("fd77:77::45/64", ScratchLan.Gateway6)], subnets);
        Assert.Contains("fd77:77::45/64", caller.InNetns(netns, "ip -6 addr show dev eth0").Stdout);
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
    }

    [Fact]
    public void Slaac_addresses_from_the_lans_router_advertisements_are_reported()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanSlaac), NetavarkJson.NewContainerId(), "slaac");

        var status = Observe.Success(caller.Plugin("setup", netns, exec), world.Server);

        var slaac = Assert.Single(Subnets(status));
        Assert.StartsWith("fd77:77::", slaac.Ipnet);
        Assert.EndsWith("/64", slaac.Ipnet);
        Assert.Contains(slaac.Ipnet.Split('/')[0], caller.InNetns(netns, "ip -6 addr show dev eth0").Stdout);
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
    }
}
