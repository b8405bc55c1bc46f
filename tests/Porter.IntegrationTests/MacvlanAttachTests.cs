using System.Text.Json.Nodes;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>
/// The foundation slice: an unprivileged user, in namespaces built like rootless podman's, runs the real AOT
/// plugin as netavark would; the server attaches a macvlan with host-local IPAM through the real CNI plugins.
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class MacvlanAttachTests(LanWorld world)
{
    [Fact]
    public void Setup_attaches_a_working_macvlan_and_teardown_removes_it_and_frees_the_address()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var id = NetavarkJson.NewContainerId();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal), id, "web1");

        var status = Observe.Success(caller.Plugin("setup", netns, exec), world.Server);

        // The StatusBlock: one interface keyed by the requested name, with the MAC and address of the real link.
        var eth0 = status["interfaces"]!["eth0"]!.AsObject();
        var subnet = eth0["subnets"]!.AsArray().Single()!;
        var ipnet = subnet["ipnet"]!.GetValue<string>();
        Assert.StartsWith("192.168.77.1", ipnet);
        Assert.EndsWith("/24", ipnet);
        Assert.Equal(ScratchLan.Gateway, subnet["gateway"]!.GetValue<string>());
        Assert.Equal([], status["dns_server_ips"]!.AsArray());

        var link = Observe.Link(caller, netns, "eth0");
        Assert.NotNull(link);
        Assert.Equal("macvlan", Observe.LinkKind(caller, netns, "eth0"));
        Assert.Equal(eth0["mac_address"]!.GetValue<string>(), link!["address"]!.GetValue<string>());
        Assert.Equal([ipnet], Observe.Ipv4Addresses(link));

        // Real L2 connectivity: the container reaches the gateway on the scratch LAN through the host's uplink.
        var ping = caller.InNetns(netns, $"ping -c 1 -W 3 {ScratchLan.Gateway}");
        Assert.True(ping.ExitCode == 0, ping.ToString());

        var address = ipnet.Split('/')[0];
        Assert.Contains(address, world.AllocatedIps(LanWorld.MacvlanHostLocal));
        var record = Assert.Single(world.CachedAttachments(), f => f.Contains(id, StringComparison.Ordinal));
        Assert.Equal($"{LanWorld.MacvlanHostLocal}-{world.Alice.Uid}-{id}-eth0", record);

        var teardown = caller.Plugin("teardown", netns, exec);
        Assert.True(teardown.ExitCode == 0, teardown.ToString());
        Assert.Equal("", teardown.Stdout);
        Assert.Null(Observe.Link(caller, netns, "eth0"));
        Assert.DoesNotContain(address, world.AllocatedIps(LanWorld.MacvlanHostLocal));
        Assert.DoesNotContain(world.CachedAttachments(), f => f.Contains(id, StringComparison.Ordinal));
    }

    [Fact]
    public void A_group_grant_lets_its_members_attach()
    {
        using var caller = world.Caller(world.Bob);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal), NetavarkJson.NewContainerId(), "bobs");

        var status = Observe.Success(caller.Plugin("setup", netns, exec), world.Server);
        Assert.NotNull(status["interfaces"]!["eth0"]);
        Assert.NotNull(Observe.Link(caller, netns, "eth0"));

        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
        Assert.Null(Observe.Link(caller, netns, "eth0"));
    }

    [Fact]
    public void A_user_without_a_grant_gets_permission_denied_and_nothing_is_created()
    {
        using var caller = world.Caller(world.Mallory);
        var netns = caller.CreateContainerNetns();
        var id = NetavarkJson.NewContainerId();
        var allocatedBefore = world.AllocatedIps(LanWorld.MacvlanHostLocal);

        var error = Observe.Error(caller.Plugin("setup", netns, NetavarkJson.Exec(world.MainSocketNetwork(LanWorld.MacvlanHostLocal), id, "evil")));

        Assert.StartsWith("PERMISSION_DENIED: ", error);
        Assert.Contains(world.Mallory.Name, error);
        Assert.Contains($"'{LanWorld.MacvlanHostLocal}'", error);
        Assert.Equal(["lo"], Observe.LinkNames(caller, netns));
        Assert.Equal(allocatedBefore, world.AllocatedIps(LanWorld.MacvlanHostLocal));
        Assert.DoesNotContain(world.CachedAttachments(), f => f.Contains(id, StringComparison.Ordinal));
    }

    [Fact]
    public void An_unknown_resource_is_reported_as_not_found()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var error = Observe.Error(caller.Plugin("setup", netns, NetavarkJson.Exec(world.Network("no-such-resource"), NetavarkJson.NewContainerId(), "x")));
        Assert.Equal("NOT_FOUND: resource 'no-such-resource' is not configured on this server", error);
        Assert.Equal(["lo"], Observe.LinkNames(caller, netns));
    }

    [Fact]
    public void Netavark_1_6_input_with_nulls_for_absent_fields_works_like_2_x_input()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal, legacyNulls: true), NetavarkJson.NewContainerId(), "old", legacyNulls: true);
        Assert.Contains("\"static_ips\":null", exec);

        var status = Observe.Success(caller.Plugin("setup", netns, exec), world.Server);
        Assert.NotNull(status["interfaces"]!["eth0"]);
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
    }

    [Fact]
    public void Two_users_with_the_same_container_id_do_not_collide()
    {
        using var alice = world.Caller(world.Alice);
        using var bob = world.Caller(world.Bob);
        var aliceNs = alice.CreateContainerNetns();
        var bobNs = bob.CreateContainerNetns();
        var id = NetavarkJson.NewContainerId();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal), id, "same");

        var a = Observe.Success(alice.Plugin("setup", aliceNs, exec), world.Server);
        var b = Observe.Success(bob.Plugin("setup", bobNs, exec), world.Server);
        Assert.NotEqual(a["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>(),
                        b["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>());

        // Bob's teardown of "his" container id releases his attachment only.
        Assert.Equal(0, bob.Plugin("teardown", bobNs, exec).ExitCode);
        Assert.Null(Observe.Link(bob, bobNs, "eth0"));
        Assert.NotNull(Observe.Link(alice, aliceNs, "eth0"));
        Assert.Equal(0, alice.Plugin("teardown", aliceNs, exec).ExitCode);
    }

    [Fact]
    public void A_layer_2_only_resource_gives_an_interface_without_addresses()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanL2), NetavarkJson.NewContainerId(), "l2", staticMac: "02:42:c0:a8:4d:0a");

        var status = Observe.Success(caller.Plugin("setup", netns, exec), world.Server);

        var eth0 = status["interfaces"]!["eth0"]!;
        Assert.Equal("02:42:c0:a8:4d:0a", eth0["mac_address"]!.GetValue<string>());
        Assert.Empty(eth0["subnets"]!.AsArray());
        var link = Observe.Link(caller, netns, "eth0")!;
        Assert.Equal("02:42:c0:a8:4d:0a", link["address"]!.GetValue<string>());
        Assert.Empty(Observe.Ipv4Addresses(link));
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
        Assert.Null(Observe.Link(caller, netns, "eth0"));
    }
}
