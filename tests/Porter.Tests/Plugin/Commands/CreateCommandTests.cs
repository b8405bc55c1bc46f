using System.Text.Json.Nodes;
using Porter.Plugin.Commands;
using Porter.Plugin.Netavark;
using Xunit;

namespace Porter.Tests.Plugin.Commands;

public sealed class CreateCommandTests
{
    private const string PodmanNetwork = """
        {
          "name": "lan",
          "id": "9f86",
          "driver": "net-porter",
          "network_interface": "",
          "created": "2024-05-01T10:00:00.123456789Z",
          "subnets": [{"subnet": "192.168.1.0/24", "gateway": "192.168.1.1"}],
          "ipv6_enabled": false,
          "internal": false,
          "dns_enabled": true,
          "labels": {"team": "infra"},
          "options": {"resource": "macvlan-static"},
          "ipam_options": {"driver": "host-local"}
        }
        """;

    private static (JsonObject Document, Network Network) Input(string json)
    {
        var document = JsonNode.Parse(json)!.AsObject();
        var network = PluginInput.Parse(System.Text.Encoding.UTF8.GetBytes(json), NetavarkJsonContext.Default.Network, "podman network");
        return (document, network);
    }

    private static void AssertJson(JsonNode expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected {expected.ToJsonString()}\nactual   {actual.ToJsonString()}");

    [Fact]
    public void Amend_turns_dns_off_and_touches_nothing_else()
    {
        var (document, network) = Input(PodmanNetwork);

        CreateCommand.Amend(document, network);

        var expected = JsonNode.Parse(PodmanNetwork)!.AsObject();
        expected["dns_enabled"] = false;
        AssertJson(expected, document);
    }

    [Fact]
    public void Amend_adds_dns_enabled_when_podman_left_it_out()
    {
        var json = """{"name": "lan", "id": "1", "driver": "net-porter", "options": {"resource": "lan"}}""";
        var (document, network) = Input(json);

        CreateCommand.Amend(document, network);

        AssertJson(JsonNode.Parse("""{"name": "lan", "id": "1", "driver": "net-porter", "options": {"resource": "lan"}, "dns_enabled": false}""")!, document);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[]")]
    public void Amend_turns_dns_off_without_dns_servers(string servers)
    {
        var json = PodmanNetwork.Replace("\"dns_enabled\": true,", $"\"dns_enabled\": true, \"network_dns_servers\": {servers},", StringComparison.Ordinal);
        var (document, network) = Input(json);

        CreateCommand.Amend(document, network);

        Assert.False(document["dns_enabled"]!.GetValue<bool>());
    }

    [Fact]
    public void Amend_leaves_dns_on_when_the_user_gave_dns_servers()
    {
        var json = PodmanNetwork.Replace("\"dns_enabled\": true,", "\"dns_enabled\": true, \"network_dns_servers\": [\"192.168.1.53\"],", StringComparison.Ordinal);
        var (document, network) = Input(json);

        CreateCommand.Amend(document, network);

        AssertJson(JsonNode.Parse(json)!, document);
    }
}
