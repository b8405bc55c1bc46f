using System.Text.Json.Nodes;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>macvlan in every mode, a chained sbr plugin, and a CNI 1.1.0 list running on Debian's 1.0.0 plugins.</summary>
[Collection(LanWorldCollection.Name)]
public sealed class NetworkKindsTests(LanWorld world)
{
    [Theory]
    [InlineData(LanWorld.MacvlanPrivate, "private")]
    [InlineData(LanWorld.MacvlanVepa, "vepa")]
    [InlineData(LanWorld.MacvlanPassthru, "passthru")]
    public void Macvlan_runs_in_the_mode_the_resource_names(string resource, string mode)
    {
        world.CreateSpareUplink();
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(resource), NetavarkJson.NewContainerId(), "moded");

        Observe.Success(caller.Plugin("setup", netns, exec), world.Server);

        var details = JsonNode.Parse(caller.InNetns(netns, "ip -d -j link show dev eth0").Stdout)![0]!["linkinfo"]!;
        Assert.Equal("macvlan", details["info_kind"]!.GetValue<string>());
        Assert.Equal(mode, details["info_data"]!["mode"]!.GetValue<string>());
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
        Assert.Null(Observe.Link(caller, netns, "eth0"));
    }

    [Fact]
    public void A_chained_sbr_plugin_adds_source_based_routing_and_takes_it_away()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanSbr), NetavarkJson.NewContainerId(), "routed");

        var address = Observe.Success(caller.Plugin("setup", netns, exec), world.Server)["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>().Split('/')[0];

        var rules = caller.InNetns(netns, "ip -j rule show").Stdout;
        Assert.Contains($"\"src\":\"{address}\"", rules);
        Assert.Contains("\"table\":\"100\"", rules);
        Assert.Contains(ScratchLan.Gateway, caller.InNetns(netns, "ip route show table 100").Stdout);
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
        Assert.Null(Observe.Link(caller, netns, "eth0"));
    }

    [Fact]
    public void A_cni_1_1_0_list_runs_at_the_newest_version_the_plugins_speak()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanCni11), NetavarkJson.NewContainerId(), "modern");

        Observe.Success(caller.Plugin("setup", netns, exec), world.Server);

        Assert.NotNull(Observe.Link(caller, netns, "eth0"));
        var record = Directory.GetFiles(Path.Combine(world.Workspace.StateDir, "cni", "results")).Single(f => f.Contains(LanWorld.MacvlanCni11, StringComparison.Ordinal));
        Assert.Equal("1.0.0", JsonNode.Parse(File.ReadAllText(record))!["result"]!["cniVersion"]!.GetValue<string>());
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
        var check = Shell.Run(Artifacts.ServerBinary, "--config", world.Workspace.ConfigPath, "--check");
        Assert.Contains($"resource {LanWorld.MacvlanCni11}: macvlan(host-local), runs at CNI 1.0.0", check.Stdout);
    }
}
