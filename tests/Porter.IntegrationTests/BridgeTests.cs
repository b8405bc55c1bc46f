using System.Text.Json.Nodes;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>
/// A per-resource host bridge with NAT, hairpin and the chained plugins (portmap driven by netavark's port mappings,
/// firewall, tuning, bandwidth from the container's per-network options) — and the cleanup netsetgo never had.
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class BridgeTests(LanWorld world)
{
    private string HostSave() => world.Lan.InHost("iptables-save").Stdout;

    private JsonArray Ports() => new(new JsonObject
    {
        ["container_port"] = 8000,
        ["host_ip"] = "",
        ["host_port"] = 18080,
        ["protocol"] = "tcp,udp",
        ["range"] = 2,
    });

    private string Exec(string id, string name) =>
        NetavarkJson.Exec(world.Network(LanWorld.BridgeNat), id, name, portMappings: Ports()) is var json
            ? WithOptions(json, new JsonObject
            {
                ["bandwidth.ingress_rate"] = "8000000",
                ["bandwidth.ingress_burst"] = "80000",
                ["bandwidth.egress_rate"] = "8000000",
                ["bandwidth.egress_burst"] = "80000",
            })
            : json;

    private static string WithOptions(string exec, JsonObject options)
    {
        var node = JsonNode.Parse(exec)!;
        node["network_options"]!["options"] = options;
        return node.ToJsonString();
    }

    [Fact]
    public void A_nat_bridge_with_port_mappings_and_chained_plugins_works_and_leaves_nothing_behind()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var id = NetavarkJson.NewContainerId();
        var exec = Exec(id, "bridged");

        var status = Observe.Success(caller.Plugin("setup", netns, exec), world.Server);

        // Only the container's interface is reported, not the bridge or the host side of the veth.
        var iface = Assert.Single(status["interfaces"]!.AsObject());
        Assert.Equal("eth0", iface.Key);
        var subnet = iface.Value!["subnets"]!.AsArray().Single()!;
        var address = subnet["ipnet"]!.GetValue<string>().Split('/')[0];
        Assert.StartsWith("10.89.0.", address);
        Assert.Equal(LanWorld.BridgeGateway, subnet["gateway"]!.GetValue<string>());

        // NAT: the container reaches the LAN router through the host.
        var ping = caller.InNetns(netns, $"ping -c 1 -W 3 {ScratchLan.Gateway}");
        Assert.True(ping.ExitCode == 0, ping.ToString());

        // Hairpin on the bridge port.
        var ports = JsonNode.Parse(world.Lan.InHost("bridge", "-j", "-d", "link", "show").Stdout)!.AsArray();
        var port = ports.Single(p => p!["master"]?.GetValue<string>() == LanWorld.BridgeName)!;
        Assert.True(port["hairpin"]!.GetValue<bool>());
        var hostVeth = port["ifname"]!.GetValue<string>();

        // Port mapping from netavark's form ("tcp,udp", range 2): four DNAT rules, and a real connection from the LAN.
        var save = HostSave();
        foreach (var (proto, hostPort, containerPort) in new[] { ("tcp", 18080, 8000), ("tcp", 18081, 8001), ("udp", 18080, 8000), ("udp", 18081, 8001) })
        {
            Assert.Contains($"-p {proto} -m {proto} --dport {hostPort} -j DNAT --to-destination {address}:{containerPort}", save);
        }
        var listener = caller.Run($"nsenter --net={netns} -- python3 -c \"import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 8000)); s.listen(1); c,_=s.accept(); c.sendall(b'hello from the container'); c.close()\" > /dev/null 2>&1 & sleep 0.5");
        Assert.Equal(0, listener.ExitCode);
        var fetched = world.Lan.InLan("python3", "-c", $"import socket; s=socket.create_connection(('{LanWorld.HostAddress}', 18080), 5); print(s.recv(100).decode())");
        Assert.True(fetched.ExitCode == 0, fetched.ToString());
        Assert.Equal("hello from the container", fetched.Stdout.Trim());

        // firewall, tuning, bandwidth.
        Assert.Contains($"-d {address}/32", world.Lan.InHost("iptables", "-S", "CNI-FORWARD").Stdout + world.Lan.InHost("iptables-save").Stdout);
        Assert.Equal("1", caller.InNetns(netns, "cat /proc/sys/net/ipv4/conf/eth0/arp_notify").Stdout.Trim());
        Assert.Contains("tbf", world.Lan.InHost("tc", "qdisc", "show", "dev", hostVeth).Stdout);
        Assert.Contains(JsonNode.Parse(world.Lan.InHost("ip", "-j", "link", "show").Stdout)!.AsArray(),
            l => l!["ifname"]!.GetValue<string>().StartsWith("bwp", StringComparison.Ordinal));

        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);

        Assert.Null(Observe.Link(caller, netns, "eth0"));
        var links = world.Lan.InHost("ip", "-o", "link").Stdout;
        Assert.DoesNotContain(hostVeth, links);
        Assert.DoesNotContain("bwp", links);
        Assert.DoesNotContain(LanWorld.BridgeName, links); // made for this resource, removed with its last attachment
        var after = HostSave();
        Assert.DoesNotContain(address, after);
        Assert.DoesNotContain(id, after);
        Assert.DoesNotContain(address, world.AllocatedIps(LanWorld.BridgeNat));
    }

    [Fact]
    public void Containers_on_the_bridge_reach_each_other_and_the_bridge_stays_until_the_last_one_leaves()
    {
        using var caller = world.Caller(world.Alice);
        var first = caller.CreateContainerNetns();
        var second = caller.CreateContainerNetns();
        var firstExec = NetavarkJson.Exec(world.Network(LanWorld.BridgeNat), NetavarkJson.NewContainerId(), "one");
        var secondExec = NetavarkJson.Exec(world.Network(LanWorld.BridgeNat), NetavarkJson.NewContainerId(), "two");
        Observe.Success(caller.Plugin("setup", first, firstExec), world.Server);
        var secondAddress = Observe.Success(caller.Plugin("setup", second, secondExec), world.Server)["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>().Split('/')[0];

        Assert.Equal(0, caller.InNetns(first, $"ping -c 1 -W 3 {secondAddress}").ExitCode);

        Assert.Equal(0, caller.Plugin("teardown", first, firstExec).ExitCode);
        Assert.Equal(0, world.Lan.InHost("ip", "link", "show", LanWorld.BridgeName).ExitCode);
        Assert.Equal(0, caller.InNetns(second, $"ping -c 1 -W 3 {LanWorld.BridgeGateway}").ExitCode);
        Assert.Equal(0, caller.Plugin("teardown", second, secondExec).ExitCode);
        Assert.NotEqual(0, world.Lan.InHost("ip", "link", "show", LanWorld.BridgeName).ExitCode);
    }

    [Fact]
    public void A_bridge_that_existed_before_is_never_removed()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.BridgeExisting), NetavarkJson.NewContainerId(), "guest");

        Observe.Success(caller.Plugin("setup", netns, exec), world.Server);
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);

        Assert.Equal(0, world.Lan.InHost("ip", "link", "show", LanWorld.ExistingBridgeName).ExitCode);
    }

    [Fact]
    public void The_nat_rules_of_a_container_that_died_are_removed_by_garbage_collection()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var id = NetavarkJson.NewContainerId();
        var address = Observe.Success(caller.Plugin("setup", netns, Exec(id, "doomed")), world.Server)["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>().Split('/')[0];
        Assert.Contains(address, HostSave());

        // Killed, and never torn down.
        caller.KillContainer(netns);

        // The log line is written once everything is done (record, rules, bridge): wait for it.
        Wait.Until(() => world.Server.Log.Split('\n').Any(l => l.Contains("released attachment", StringComparison.Ordinal) && l.Contains(id, StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "collection", () => world.Server.Log);
        Assert.DoesNotContain(world.CachedAttachments(), f => f.Contains(id, StringComparison.Ordinal));
        var after = HostSave();
        Assert.DoesNotContain(address, after);
        Assert.DoesNotContain(id, after);
        Assert.NotEqual(0, world.Lan.InHost("ip", "link", "show", LanWorld.BridgeName).ExitCode);
    }

    [Fact]
    public async Task Parallel_setups_and_teardowns_on_one_bridge_are_safe()
    {
        // Separate callers (each its own rootless world), so the plugin calls really overlap.
        var callers = Enumerable.Range(0, 4).Select(_ => world.Caller(world.Alice)).ToList();
        try
        {
            var containers = callers.Select(c => (Caller: c, Netns: c.CreateContainerNetns(),
                Exec: NetavarkJson.Exec(world.Network(LanWorld.BridgeNat), NetavarkJson.NewContainerId(), "crowd"))).ToList();

            var setups = await Task.WhenAll(containers.Select(c => Task.Run(() => c.Caller.Plugin("setup", c.Netns, c.Exec))));

            var addresses = setups.Select(r => Observe.Success(r, world.Server)["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>()).ToList();
            Assert.Equal(addresses.Count, addresses.Distinct().Count());
            Assert.All(containers, c => Assert.Equal(0, c.Caller.InNetns(c.Netns, $"ping -c 1 -W 3 {LanWorld.BridgeGateway}").ExitCode));

            var teardowns = await Task.WhenAll(containers.Select(c => Task.Run(() => c.Caller.Plugin("teardown", c.Netns, c.Exec))));

            Assert.All(teardowns, t => Assert.True(t.ExitCode == 0, t.ToString()));
            Assert.NotEqual(0, world.Lan.InHost("ip", "link", "show", LanWorld.BridgeName).ExitCode);
            Assert.Empty(world.AllocatedIps(LanWorld.BridgeNat));
            var save = HostSave();
            Assert.All(addresses, a => Assert.DoesNotContain(a.Split('/')[0], save));
        }
        finally
        {
            callers.ForEach(c => c.Dispose());
        }
    }
}
