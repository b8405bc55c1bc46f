using System.Text.Json.Nodes;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>
/// A pure layer-2 segment ("segment": true on a bridge resource): containers of different users share it and reach
/// each other; the host — its addresses, its routes to the LAN — is not reachable through it, not even by a container
/// that knows the bridge's MAC. And the recipe the README gives for extending a segment to another host (a vxlan port
/// on each host's bridge) joins two scratch hosts.
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class SegmentTests(LanWorld world)
{
    [Fact]
    public void Two_users_share_a_segment_and_nothing_else_on_the_host_is_reachable_through_it()
    {
        // The host would route for the segment if it were allowed to: forwarding is on in the scratch host.
        Shell.Check("ip", "netns", "exec", world.Lan.HostNs, "sysctl", "-qw", "net.ipv4.ip_forward=1");
        using var alice = world.Caller(world.Alice);
        var aliceNetns = alice.CreateContainerNetns();
        var aliceExec = NetavarkJson.Exec(world.Network(LanWorld.Segment), NetavarkJson.NewContainerId(), "a");
        using var bobs = UnsharedProcess.Start(world.Bob);
        try
        {
            var aliceStatus = Observe.Success(alice.Plugin("setup", aliceNetns, aliceExec), world.Server);
            var aliceAddress = aliceStatus["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>().Split('/')[0];
            var bob = PorterCli.AsUser(world.Workspace, world.Bob, "attach", "-r", LanWorld.Segment, "--pid", bobs.PidText, "--json");
            Assert.True(bob.ExitCode == 0, $"{bob}\n{world.Server.Log}");
            var bobAddress = JsonNode.Parse(bob.Stdout)!["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>().Split('/')[0];

            // Layer 2 between the two users' namespaces, both ways.
            var there = alice.InNetns(aliceNetns, $"ping -c 1 -W 3 {bobAddress}");
            Assert.True(there.ExitCode == 0, there.ToString());
            var back = bobs.In("ping", "-c", "1", "-W", "3", aliceAddress);
            Assert.True(back.ExitCode == 0, back.ToString());

            // The bridge: no address of either family (no link-local either), no route, IPv6 off, no ARP answers.
            var bridge = Assert.Single(JsonNode.Parse(world.Lan.InHost("ip", "-j", "addr", "show", "dev", LanWorld.SegmentBridge).Stdout)!.AsArray())!;
            Assert.Empty(bridge["addr_info"]!.AsArray());
            Assert.Equal("", world.Lan.InHost("ip", "route", "show", "dev", LanWorld.SegmentBridge).Stdout.Trim());
            Assert.Equal("1", world.Lan.InHost("cat", $"/proc/sys/net/ipv6/conf/{LanWorld.SegmentBridge}/disable_ipv6").Stdout.Trim());
            var bridgeMac = bridge["address"]!.GetValue<string>();

            // Alice tries the host's address and, through the host, the LAN's gateway: on-link, by ARP, and with the
            // bridge's MAC written in by hand (what ARP would have told her).
            Assert.NotEqual(0, alice.InNetns(aliceNetns, $"sh -c 'ip route add {LanWorld.HostAddress} dev eth0 && ping -c 1 -W 2 {LanWorld.HostAddress}'").ExitCode);
            var knowsMac = $"sh -c 'ip neigh replace {LanWorld.HostAddress} lladdr {bridgeMac} dev eth0 nud permanent && ping -c 1 -W 2 {LanWorld.HostAddress}'";
            Assert.NotEqual(0, alice.InNetns(aliceNetns, knowsMac).ExitCode);
            var viaHost = $"sh -c 'ip route add {ScratchLan.Gateway} dev eth0 && ip neigh replace {ScratchLan.Gateway} lladdr {bridgeMac} dev eth0 nud permanent && ping -c 1 -W 2 {ScratchLan.Gateway}'";
            Assert.NotEqual(0, alice.InNetns(aliceNetns, viaHost).ExitCode);

            // The control: without the seal's INPUT rule (and with a route back, for the answer) the very same packet
            // does reach the host, so it is the seal, not a mistake in the test, that stops it.
            string[] input = ["INPUT", "-i", LanWorld.SegmentBridge, "-m", "comment", "--comment", $"net-porter segment {LanWorld.SegmentBridge}", "-j", "DROP"];
            Assert.Equal(0, world.Lan.InHost(["iptables", "-w", "-D", .. input]).ExitCode);
            Assert.Equal(0, world.Lan.InHost("ip", "route", "add", LanWorld.SegmentSubnet, "dev", LanWorld.SegmentBridge).ExitCode);
            try
            {
                var unsealed = alice.InNetns(aliceNetns, $"ping -c 1 -W 2 {LanWorld.HostAddress}");
                Assert.True(unsealed.ExitCode == 0, $"without the seal the host should answer: {unsealed}");
            }
            finally
            {
                world.Lan.InHost("ip", "route", "del", LanWorld.SegmentSubnet, "dev", LanWorld.SegmentBridge);
                Assert.Equal(0, world.Lan.InHost(["iptables", "-w", "-I", .. input]).ExitCode);
            }
        }
        finally
        {
            alice.Plugin("teardown", aliceNetns, aliceExec);
            PorterCli.AsUser(world.Workspace, world.Bob, "detach", "-r", LanWorld.Segment, "--pid", bobs.PidText);
        }
        // The bridge net-porter made goes with its last attachment, and its seal with it.
        Assert.NotEqual(0, world.Lan.InHost("ip", "link", "show", "dev", LanWorld.SegmentBridge).ExitCode);
        Assert.DoesNotContain($"net-porter segment {LanWorld.SegmentBridge}", world.Lan.InHost("iptables", "-w", "-S").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_segment_extends_to_a_second_host_through_a_vxlan_port_on_each_bridge()
    {
        var host2 = $"npt-{Shell.RandomId()}-h2";
        var c2 = $"npt-{Shell.RandomId()}-c2";
        using var alice = world.Caller(world.Alice);
        var netns = alice.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.Segment), NetavarkJson.NewContainerId(), "a");
        try
        {
            Observe.Success(alice.Plugin("setup", netns, exec), world.Server);
            // An underlay between the two hosts, as their LAN would be.
            Shell.Check("ip", "netns", "add", host2);
            Shell.Check("ip", "netns", "add", c2);
            Shell.Check("ip", "-n", world.Lan.HostNs, "link", "add", "vxu0", "type", "veth", "peer", "name", "vxu0", "netns", host2);
            Shell.Check("ip", "-n", world.Lan.HostNs, "addr", "add", "10.250.0.1/30", "dev", "vxu0");
            Shell.Check("ip", "-n", host2, "addr", "add", "10.250.0.2/30", "dev", "vxu0");
            Shell.Check("ip", "-n", world.Lan.HostNs, "link", "set", "vxu0", "up");
            Shell.Check("ip", "-n", host2, "link", "set", "vxu0", "up");
            // Host 1: the administrator enslaves a vxlan device to net-porter's segment bridge.
            Shell.Check("ip", "-n", world.Lan.HostNs, "link", "add", "npvx0", "type", "vxlan", "id", "4242", "local", "10.250.0.1", "remote", "10.250.0.2", "dstport", "4789", "dev", "vxu0");
            Shell.Check("ip", "-n", world.Lan.HostNs, "link", "set", "npvx0", "master", LanWorld.SegmentBridge, "up");
            // Host 2: the same segment's bridge (no address), its vxlan port, and a namespace on it.
            Shell.Check("ip", "-n", host2, "link", "add", LanWorld.SegmentBridge, "type", "bridge");
            Shell.Check("ip", "-n", host2, "link", "add", "npvx0", "type", "vxlan", "id", "4242", "local", "10.250.0.2", "remote", "10.250.0.1", "dstport", "4789", "dev", "vxu0");
            Shell.Check("ip", "-n", host2, "link", "set", "npvx0", "master", LanWorld.SegmentBridge, "up");
            Shell.Check("ip", "-n", host2, "link", "add", "veth-c2", "type", "veth", "peer", "name", "eth0", "netns", c2);
            Shell.Check("ip", "-n", host2, "link", "set", "veth-c2", "master", LanWorld.SegmentBridge, "up");
            Shell.Check("ip", "-n", host2, "link", "set", LanWorld.SegmentBridge, "up");
            Shell.Check("ip", "-n", c2, "addr", "add", "10.91.0.200/24", "dev", "eth0");
            Shell.Check("ip", "-n", c2, "link", "set", "eth0", "up");

            var across = alice.InNetns(netns, "ping -c 1 -W 3 10.91.0.200");

            Assert.True(across.ExitCode == 0, across.ToString());
        }
        finally
        {
            Shell.Try("ip", "-n", world.Lan.HostNs, "link", "del", "npvx0");
            Shell.Try("ip", "-n", world.Lan.HostNs, "link", "del", "vxu0");
            Shell.Try("ip", "netns", "del", host2);
            Shell.Try("ip", "netns", "del", c2);
            alice.Plugin("teardown", netns, exec);
        }
        Assert.NotEqual(0, world.Lan.InHost("ip", "link", "show", "dev", LanWorld.SegmentBridge).ExitCode);
    }

    [Fact]
    public void A_segment_whose_bridge_would_give_the_host_a_part_is_refused_at_load()
    {
        using var workspace = Workspace.Create();
        workspace.WriteCni("gw.conflist", """
            { "cniVersion": "1.0.0", "name": "gw", "plugins": [{ "type": "bridge", "bridge": "npsegx", "isGateway": true, "ipam": { "type": "host-local", "ranges": [[{ "subnet": "10.92.0.0/24" }]] } }] }
            """);
        workspace.WriteConfig($$"""{ "resources": [{ "name": "gw", "segment": true, "allow_users": ["root"] }], "state_dir": "{{workspace.StateDir}}" }""");

        var check = Shell.Run(Artifacts.ServerBinary, "--config", workspace.ConfigPath, "--check");

        Assert.NotEqual(0, check.ExitCode);
        Assert.Contains($"resource 'gw' is a segment, but its CNI network ({Path.Combine(workspace.CniDir, "gw.conflist")}) cannot be one: " +
            "its bridge sets \"isGateway\": true, which gives the host a part in the segment; a segment's bridge has no address and no NAT", check.Stdout + check.Stderr);
    }
}
