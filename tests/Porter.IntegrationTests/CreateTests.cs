using System.Text.Json.Nodes;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>"podman network create -d net-porter": checked with the server, echoed back with podman's fields intact.</summary>
[Collection(LanWorldCollection.Name)]
public sealed class CreateTests(LanWorld world)
{
    private JsonObject PodmanNetwork(string resource, bool aliasOptions = false)
    {
        var options = aliasOptions
            ? new JsonObject { ["net_porter_resource"] = resource, ["net_porter_socket"] = world.Workspace.SocketPath }
            : new JsonObject { ["resource"] = resource, ["socket"] = world.Workspace.SocketPath };
        // What podman 5 sends: absent fields omitted, plus fields netavark 1.6 would not know.
        return new JsonObject
        {
            ["name"] = "lan",
            ["id"] = new string('a', 64),
            ["driver"] = "net-porter",
            ["created"] = "0001-01-01T00:00:00Z",
            ["labels"] = new JsonObject { ["team"] = "infra" },
            ["routes"] = new JsonArray(new JsonObject { ["destination"] = "10.0.0.0/8", ["gateway"] = "192.168.77.1" }),
            ["options"] = options,
            ["ipv6_enabled"] = false,
            ["internal"] = false,
            ["dns_enabled"] = true,
            ["some_future_field"] = new JsonObject { ["nested"] = new JsonArray(1, 2, 3) },
        };
    }

    [Fact]
    public void Create_echoes_the_network_with_only_dns_enabled_changed()
    {
        using var caller = world.Caller(world.Alice);
        var input = PodmanNetwork(LanWorld.MacvlanHostLocal);

        var output = Observe.Success(caller.Plugin("create", null, input.ToJsonString()), world.Server);

        var expected = input.DeepClone().AsObject();
        expected["dns_enabled"] = false;
        Assert.True(JsonNode.DeepEquals(expected, output), $"expected {expected.ToJsonString()}\nactual   {output.ToJsonString()}");
    }

    [Fact]
    public void Create_accepts_the_original_option_names()
    {
        using var caller = world.Caller(world.Alice);
        var output = Observe.Success(caller.Plugin("create", null, PodmanNetwork(LanWorld.MacvlanHostLocal, aliasOptions: true).ToJsonString()), world.Server);
        Assert.Equal(LanWorld.MacvlanHostLocal, output["options"]!["net_porter_resource"]!.GetValue<string>());
    }

    [Fact]
    public void Create_fails_early_for_unknown_and_forbidden_resources_and_missing_options()
    {
        using var alice = world.Caller(world.Alice);
        using var mallory = world.Caller(world.Mallory);

        Assert.Equal("NOT_FOUND: resource 'nope' is not configured on this server",
            Observe.Error(alice.Plugin("create", null, PodmanNetwork("nope").ToJsonString())));
        Assert.StartsWith("PERMISSION_DENIED: ", Observe.Error(mallory.Plugin("create", null, PodmanNetwork(LanWorld.MacvlanHostLocal).ToJsonString())));

        var noResource = PodmanNetwork(LanWorld.MacvlanHostLocal);
        noResource["options"] = new JsonObject { ["socket"] = world.Workspace.SocketPath };
        Assert.Contains("has no 'resource' option", Observe.Error(alice.Plugin("create", null, noResource.ToJsonString())));
    }

    [Fact]
    public void Create_refuses_subnets_only_where_podmans_addresses_could_not_be_used()
    {
        using var caller = world.Caller(world.Alice);
        var withSubnet = (string resource) =>
        {
            var network = PodmanNetwork(resource);
            network["subnets"] = new JsonArray(new JsonObject { ["subnet"] = ScratchLan.Subnet });
            return network.ToJsonString();
        };

        // host-local in the CNI config can take the address podman picks...
        Observe.Success(caller.Plugin("create", null, withSubnet(LanWorld.MacvlanHostLocal)), world.Server);
        // ...a resource without IPAM cannot.
        var error = Observe.Error(caller.Plugin("create", null, withSubnet(LanWorld.MacvlanL2)));
        Assert.StartsWith($"FAILED_PRECONDITION: resource '{LanWorld.MacvlanL2}' assigns addresses with no IPAM at all", error);
        Assert.Contains("without --subnet", error);
    }

    [Fact]
    public void Info_answers_without_a_server()
    {
        using var caller = world.Caller(world.Mallory);
        var info = Observe.Success(caller.Plugin("info", null, ""));
        Assert.Equal("1.0.0", info["api_version"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(info["version"]!.GetValue<string>()));
    }
}
