using System.Text.Json.Nodes;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests.Security;

/// <summary>
/// Hostile or broken input through the plugin: names with path tricks, identifiers that would inject into CNI_ARGS or
/// that CNI rejects, addresses outside the grant, and JSON that is malformed, truncated, huge or of the wrong types.
/// Each gets a clear error naming what was wrong; nothing is created; the server carries on.
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class InputAbuseTests(LanWorld world)
{
    private static JsonObject Exec(JsonObject network, string containerId = "c0ffee", string name = "ok", string ifName = "eth0",
        IReadOnlyList<string>? ips = null, string? mac = null) =>
        JsonNode.Parse(NetavarkJson.Exec(network, containerId, name, ifName, ips, mac))!.AsObject();

    [Fact]
    public void Resource_names_with_path_tricks_or_too_long_are_invalid()
    {
        using var bob = world.Caller(world.Bob);
        var netns = bob.CreateContainerNetns();
        var before = WorldState.Of(world);
        string Attempt(string resource) =>
            Observe.Error(bob.Plugin("setup", netns, Exec(world.Network(resource)).ToJsonString()));

        Assert.Equal("INVALID_ARGUMENT: resource: '../mv-hl' is not a valid name: use letters, digits, '_', '.' and '-', starting with a letter or digit", Attempt("../mv-hl"));
        Assert.Equal("INVALID_ARGUMENT: resource: 'mv-hl/../x' is not a valid name: use letters, digits, '_', '.' and '-', starting with a letter or digit", Attempt("mv-hl/../x"));
        Assert.Equal("INVALID_ARGUMENT: resource: '/etc/passwd' is not a valid name: use letters, digits, '_', '.' and '-', starting with a letter or digit", Attempt("/etc/passwd"));
        Assert.Equal("INVALID_ARGUMENT: resource: 'mv-hl\\u0000x' is not a valid name: use letters, digits, '_', '.' and '-', starting with a letter or digit", Attempt("mv-hl\0x"));
        Assert.Equal("INVALID_ARGUMENT: resource: the name is 101 characters long; at most 100 are allowed", Attempt(new string('a', 101)));
        Assert.Equal("option 'resource' is empty", Attempt(""));

        before.AssertUnchanged(world);
        Abuse.AssertStillServing(world);
    }

    [Fact]
    public void Identifiers_that_could_inject_or_that_CNI_rejects_are_invalid()
    {
        using var bob = world.Caller(world.Bob);
        var netns = bob.CreateContainerNetns();
        var network = world.Network(LanWorld.MacvlanHostLocal);
        var before = WorldState.Of(world);
        string Attempt(JsonObject exec) => Observe.Error(bob.Plugin("setup", netns, exec.ToJsonString()));
        var idRule = "may only contain letters, digits, '_', '.' and '-', starting with a letter or digit";

        Assert.Equal($"INVALID_ARGUMENT: container_id 'abc;IP=192.168.77.9' {idRule}", Attempt(Exec(network, containerId: "abc;IP=192.168.77.9")));
        Assert.Equal($"INVALID_ARGUMENT: container_id 'abc=1' {idRule}", Attempt(Exec(network, containerId: "abc=1")));
        Assert.Equal($"INVALID_ARGUMENT: container_id 'abc\\u000aIgnoreUnknown=0' {idRule}", Attempt(Exec(network, containerId: "abc\nIgnoreUnknown=0")));
        Assert.Equal($"INVALID_ARGUMENT: container_id '-abc' {idRule}", Attempt(Exec(network, containerId: "-abc")));
        Assert.Equal($"INVALID_ARGUMENT: container_id '../../etc' {idRule}", Attempt(Exec(network, containerId: "../../etc")));
        Assert.Equal("INVALID_ARGUMENT: container_id is 129 characters long; at most 128 are allowed", Attempt(Exec(network, containerId: new string('a', 129))));
        Assert.Equal($"INVALID_ARGUMENT: container_name 'web;K8S_POD_NAME=x' {idRule}", Attempt(Exec(network, name: "web;K8S_POD_NAME=x")));
        Assert.Equal($"INVALID_ARGUMENT: container_name 'a=b' {idRule}", Attempt(Exec(network, name: "a=b")));
        Assert.Equal("INVALID_ARGUMENT: interface_name: interface name 'abcdefghijklmnop' is longer than 15 bytes", Attempt(Exec(network, ifName: "abcdefghijklmnop")));
        Assert.Equal("INVALID_ARGUMENT: interface_name: interface name 'eth0;x y' contains a character that is not allowed ('/', ':', whitespace, control or non-ASCII)",
            Attempt(Exec(network, ifName: "eth0;x y")));
        Assert.Equal("INVALID_ARGUMENT: interface_name: interface name 'a/b' contains a character that is not allowed ('/', ':', whitespace, control or non-ASCII)",
            Attempt(Exec(network, ifName: "a/b")));
        Assert.Equal("INVALID_ARGUMENT: interface_name: interface name '..' is not allowed", Attempt(Exec(network, ifName: "..")));
        Assert.Equal("INVALID_ARGUMENT: static_mac: 'aa:bb:cc:dd:ee:ff\\u000a' is not a MAC address (expected aa:bb:cc:dd:ee:ff)",
            Attempt(Exec(network, mac: "aa:bb:cc:dd:ee:ff\n")));

        before.AssertUnchanged(world);
        Assert.Equal(["lo"], Observe.LinkNames(bob, netns));
        Abuse.AssertStillServing(world);
    }

    [Fact]
    public void Static_addresses_outside_the_grant_are_refused()
    {
        using var alice = world.Caller(world.Alice);
        using var bob = world.Caller(world.Bob);
        var netns = alice.CreateContainerNetns();
        var lan = new NetavarkJson.Subnet(ScratchLan.Subnet, ScratchLan.Gateway);
        var before = WorldState.Of(world);

        Assert.Equal($"PERMISSION_DENIED: static IP 192.168.77.100 is outside what {world.Alice.Name} (uid {world.Alice.Uid}) may request on resource '{LanWorld.MacvlanStatic}' (192.168.77.32-192.168.77.63, 10.9.9.0/24, fd77:77::/64)",
            Observe.Error(alice.Plugin("setup", netns, Exec(world.Network(LanWorld.MacvlanStatic, [lan]), ips: ["192.168.77.100"]).ToJsonString())));
        Assert.Equal($"PERMISSION_DENIED: static MAC 02:00:00:00:00:01 is outside what {world.Alice.Name} (uid {world.Alice.Uid}) may request on resource '{LanWorld.MacvlanL2}' (02:42:c0:a8:4d:00/40)",
            Observe.Error(alice.Plugin("setup", netns, Exec(world.Network(LanWorld.MacvlanL2), mac: "02:00:00:00:00:01").ToJsonString())));
        Assert.Equal($"PERMISSION_DENIED: {world.Alice.Name} (uid {world.Alice.Uid}) may not request static IPs on resource '{LanWorld.MacvlanHostLocal}' (no \"ips\" are granted)",
            Observe.Error(alice.Plugin("setup", netns, Exec(world.Network(LanWorld.MacvlanHostLocal, [lan]), ips: ["192.168.77.150"]).ToJsonString())));
        var bobNetns = bob.CreateContainerNetns();
        Assert.Equal($"PERMISSION_DENIED: {world.Bob.Name} (uid {world.Bob.Uid}) may not request a static MAC on resource '{LanWorld.MacvlanHostLocal}' (no \"macs\" are granted)",
            Observe.Error(bob.Plugin("setup", bobNetns, Exec(world.Network(LanWorld.MacvlanHostLocal), mac: "02:42:c0:a8:4d:01").ToJsonString())));

        before.AssertUnchanged(world);
        Assert.Equal(["lo"], Observe.LinkNames(alice, netns));
        Abuse.AssertStillServing(world);
    }

    [Fact]
    public void Malformed_truncated_huge_or_wrongly_typed_json_is_refused_by_the_plugin()
    {
        using var bob = world.Caller(world.Bob);
        var netns = bob.CreateContainerNetns();
        var valid = Exec(world.Network(LanWorld.MacvlanHostLocal)).ToJsonString();
        var before = WorldState.Of(world);
        string Attempt(string stdin) => Observe.Error(bob.Plugin("setup", netns, stdin));

        Assert.Equal("nothing on stdin: expected the network as JSON, as netavark and podman pass it", Attempt(""));
        var truncated = Attempt(valid[..(valid.Length / 2)]);
        Assert.StartsWith("stdin is not valid netavark plugin JSON: ", truncated);
        Assert.Contains("(line 1, byte ", truncated);
        Assert.Equal("stdin is not valid netavark plugin JSON: Expected depth to be zero at the end of the JSON payload. There is an open JSON object or array that should be closed. at $ (line 1, byte 2)",
            Attempt("{"));
        Assert.Equal("stdin holds null instead of netavark plugin", Attempt("null"));
        Assert.Equal("stdin is not valid netavark plugin JSON: expected an object at $ (line 1, byte 2)", Attempt("[]"));
        Assert.Equal("stdin is not valid netavark plugin JSON: missing required field(s) 'network_options' at $ (line 1, byte 108)",
            Attempt("""{"container_id": "abc", "container_name": "x", "network": {"name": "n", "id": "i", "driver": "net-porter"}}"""));
        var wrongType = Exec(world.Network(LanWorld.MacvlanHostLocal));
        wrongType["network_options"]!["static_ips"] = "192.168.77.5";
        Assert.StartsWith("stdin is not valid netavark plugin JSON: expected an array of strings at $.network_options.static_ips (line 1, byte ",
            Attempt(wrongType.ToJsonString()));
        var numericId = Exec(world.Network(LanWorld.MacvlanHostLocal));
        numericId["container_id"] = 5;
        Assert.StartsWith("stdin is not valid netavark plugin JSON: expected a string at $.container_id (line 1, byte ", Attempt(numericId.ToJsonString()));
        Assert.Equal("the JSON on stdin is larger than 4 MiB", Attempt(new string(' ', 5 * 1024 * 1024) + valid));

        before.AssertUnchanged(world);
        Assert.Equal(["lo"], Observe.LinkNames(bob, netns));
        Abuse.AssertStillServing(world);
    }
}
