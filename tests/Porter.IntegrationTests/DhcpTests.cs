using System.Diagnostics;
using System.Text.Json.Nodes;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>
/// DHCP against a real DHCP server (dnsmasq in the scratch LAN), with the CNI dhcp daemon run by the server itself:
/// lease, DNS, renewal, release, the same address for the same container, a bounded failure when nobody answers,
/// a daemon that dies, and a server killed in the middle of a setup.
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class DhcpTests(LanWorld world)
{
    private string DaemonPidFile => Path.Combine(world.Workspace.StateDir, "dhcp", "dhcp.pid");

    private static string Ipnet(JsonObject status) => status["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>();

    [Fact]
    public void A_lease_brings_address_gateway_routes_and_dns_is_renewed_and_released()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var id = NetavarkJson.NewContainerId();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanDhcp), id, "dhcp-web");

        var status = Observe.Success(caller.Plugin("setup", netns, exec), world.Server);

        var eth0 = status["interfaces"]!["eth0"]!;
        var subnet = eth0["subnets"]!.AsArray().Single()!;
        var address = subnet["ipnet"]!.GetValue<string>();
        var host = System.Net.IPAddress.Parse(address.Split('/')[0]).GetAddressBytes()[3];
        Assert.EndsWith("/24", address);
        Assert.InRange(host, 150, 180);
        Assert.Equal(ScratchLan.Gateway, subnet["gateway"]!.GetValue<string>());
        Assert.Equal([DnsmasqServer.DnsServer], status["dns_server_ips"]!.AsArray().Select(d => d!.GetValue<string>()));
        Assert.Equal([DnsmasqServer.Domain], status["dns_search_domains"]!.AsArray().Select(d => d!.GetValue<string>()));
        var routes = caller.InNetns(netns, "ip -j route show default").Stdout;
        Assert.Contains($"\"gateway\":\"{ScratchLan.Gateway}\"", routes);
        Assert.True(caller.InNetns(netns, $"ping -c 1 -W 3 {ScratchLan.Gateway}").ExitCode == 0);
        // The client id is the uid-scoped container id, so another user's container can never take this lease.
        var mac = eth0["mac_address"]!.GetValue<string>();
        Assert.Contains(world.Dhcp.Lines(), l => l.Contains("DHCPACK", StringComparison.Ordinal) && l.Contains(mac, StringComparison.Ordinal));
        Assert.Contains($"dhcp-web", world.Dhcp.Log);

        // Renewal (T1 is 10 s on this LAN) keeps the same address.
        var acks = world.Dhcp.Acks(mac);
        Wait.Until(() => world.Dhcp.Acks(mac) > acks, TimeSpan.FromSeconds(30), "a renewal", () => world.Dhcp.Log);
        Assert.Equal([address], Observe.Ipv4Addresses(Observe.Link(caller, netns, "eth0")!));

        var teardown = caller.Plugin("teardown", netns, exec);
        Assert.True(teardown.ExitCode == 0, teardown.ToString());
        Wait.Until(() => world.Dhcp.Lines().Any(l => l.Contains("DHCPRELEASE", StringComparison.Ordinal) && l.Contains(address.Split('/')[0], StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "DHCPRELEASE", () => world.Dhcp.Log);
        Assert.Null(Observe.Link(caller, netns, "eth0"));
        Assert.DoesNotContain(world.CachedAttachments(), f => f.Contains(id, StringComparison.Ordinal));
    }

    [Fact]
    public void A_restarted_container_gets_its_address_again()
    {
        using var caller = world.Caller(world.Alice);
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanDhcp), NetavarkJson.NewContainerId(), "sticky");
        var first = caller.CreateContainerNetns();
        var before = Ipnet(Observe.Success(caller.Plugin("setup", first, exec), world.Server));
        Assert.Equal(0, caller.Plugin("teardown", first, exec).ExitCode);
        caller.RemoveContainerNetns(first);

        var second = caller.CreateContainerNetns();
        var after = Ipnet(Observe.Success(caller.Plugin("setup", second, exec), world.Server));

        Assert.Equal(before, after);
        Assert.Equal(0, caller.Plugin("teardown", second, exec).ExitCode);
    }

    [Fact]
    public void Without_a_dhcp_server_setup_fails_clearly_in_bounded_time_and_leaves_nothing()
    {
        world.CreateSpareUplink();
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var id = NetavarkJson.NewContainerId();
        var before = WorldState.Of(world);
        var clock = Stopwatch.StartNew();

        var error = Observe.Error(caller.Plugin("setup", netns, NetavarkJson.Exec(world.Network(LanWorld.MacvlanDhcpSilent), id, "lonely")));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"took {clock.Elapsed.TotalSeconds:0} s");
        Assert.StartsWith($"FAILED_PRECONDITION: setup of container {id} (eth0) on resource '{LanWorld.MacvlanDhcpSilent}' failed: no DHCP server answered on the network of resource '{LanWorld.MacvlanDhcpSilent}'", error);
        Assert.Equal(["lo"], Observe.LinkNames(caller, netns));
        before.AssertUnchanged(world);
        Assert.Empty(Directory.GetFiles(Path.Combine(world.Workspace.StateDir, "netns")));
    }

    [Fact]
    public void A_dhcp_daemon_that_dies_is_restarted_and_the_lease_is_acquired_again()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanDhcp), NetavarkJson.NewContainerId(), "survivor");
        var address = Ipnet(Observe.Success(caller.Plugin("setup", netns, exec), world.Server)).Split('/')[0];
        var pid = File.ReadAllText(DaemonPidFile).Trim();

        Shell.Check("kill", "-9", pid);

        Wait.Until(() => File.Exists(DaemonPidFile) && File.ReadAllText(DaemonPidFile).Trim() != pid, TimeSpan.FromSeconds(15), "a new daemon", () => world.Server.Log);
        Wait.Until(() => world.Server.Log.Contains($"acquired again: {address}/24", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the lease again", () => world.Server.Log);
        Assert.Contains("the DHCP daemon (pid", world.Server.Log);
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
        Wait.Until(() => world.Dhcp.Lines().Any(l => l.Contains("DHCPRELEASE", StringComparison.Ordinal) && l.Contains(address, StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "DHCPRELEASE from the new daemon", () => world.Dhcp.Log);
    }

    [Fact]
    public async Task A_server_killed_in_the_middle_of_a_setup_rolls_it_back_when_it_starts_again()
    {
        world.CreateSpareUplink();
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var id = NetavarkJson.NewContainerId();
        var results = Path.Combine(world.Workspace.StateDir, "cni", "results");
        var holds = Path.Combine(world.Workspace.StateDir, "netns");
        // No DHCP server answers on the spare uplink: the ADD stays in progress long enough to be interrupted.
        var setup = Task.Run(() => caller.Plugin("setup", netns, NetavarkJson.Exec(world.Network(LanWorld.MacvlanDhcpSilent), id, "interrupted")));
        // The caller is busy running the plugin; look from the host, through the namespace the server holds.
        bool UnderWay() =>
            Directory.Exists(results) && Directory.GetFiles(results).Any(f => f.Contains(id, StringComparison.Ordinal)) &&
            Directory.Exists(holds) && Directory.GetFiles(holds).Any(f => f.Contains(id, StringComparison.Ordinal) &&
                Shell.Run("nsenter", $"--net={f}", "ip", "link", "show", "eth0").ExitCode == 0);
        Wait.Until(UnderWay, TimeSpan.FromSeconds(20), "the setup to be under way", () => world.Server.Log);

        // kill -9 of the whole service, as systemd does to a cgroup; plugins and the DHCP daemon die with it.
        world.Server.CrashWithChildren();
        Assert.StartsWith("UNAVAILABLE: ", Observe.Error(await setup));
        Assert.Contains("eth0", Observe.LinkNames(caller, netns)); // half made
        Assert.Single(Directory.GetFiles(holds));

        world.RestartServer();

        Wait.Until(() => world.Server.Log.Split('\n').Any(l => l.Contains("its setup never finished", StringComparison.Ordinal) && l.Contains(id, StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the rollback", () => world.Server.Log);
        Assert.DoesNotContain(Directory.GetFiles(results), f => f.Contains(id, StringComparison.Ordinal));
        Assert.Equal(["lo"], Observe.LinkNames(caller, netns));
        Assert.Empty(Directory.GetFiles(holds));
    }
}
