using System.Text;
using Porter.Plugin;
using Porter.Plugin.Netavark;
using Xunit;

namespace Porter.Tests.Plugin.Netavark;

public sealed class PluginInputTests
{
    private static readonly byte[] Netavark16Network = Encoding.UTF8.GetBytes("""
        {
          "name": "lan",
          "id": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
          "driver": "net-porter",
          "network_interface": null,
          "created": "2024-01-01T00:00:00Z",
          "subnets": null,
          "ipv6_enabled": false,
          "internal": false,
          "dns_enabled": true,
          "network_dns_servers": null,
          "options": {"resource": "macvlan-dhcp"},
          "ipam_options": null
        }
        """);

    private static readonly byte[] Netavark2Network = Encoding.UTF8.GetBytes("""
        {"name": "lan", "id": "9f86", "driver": "net-porter", "ipv6_enabled": false, "internal": true, "dns_enabled": false,
         "options": {"resource": "macvlan-dhcp"}, "subnets": [{"subnet": "192.168.1.0/24", "gateway": "192.168.1.1"}]}
        """);

    private static string Fails(Action action) => Assert.Throws<PluginException>(action).Message;

    [Fact]
    public void ReadAll_returns_the_bytes()
    {
        using var stdin = new MemoryStream(Netavark2Network);
        Assert.Equal(Netavark2Network, PluginInput.ReadAll(stdin));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(" \n\t\r\n")]
    public void ReadAll_refuses_empty_input(string input)
    {
        using var stdin = new MemoryStream(Encoding.UTF8.GetBytes(input));
        Assert.Equal("nothing on stdin: expected the network as JSON, as netavark and podman pass it", Fails(() => PluginInput.ReadAll(stdin)));
    }

    [Fact]
    public void ReadAll_accepts_exactly_4_MiB()
    {
        var bytes = new byte[PluginInput.MaxInputBytes];
        Array.Fill(bytes, (byte)'x');
        using var stdin = new MemoryStream(bytes);
        Assert.Equal(4 * 1024 * 1024, PluginInput.ReadAll(stdin).Length);
    }

    [Fact]
    public void ReadAll_refuses_more_than_4_MiB()
    {
        var bytes = new byte[PluginInput.MaxInputBytes + 1];
        Array.Fill(bytes, (byte)' ');
        using var stdin = new MemoryStream(bytes);
        Assert.Equal("the JSON on stdin is larger than 4 MiB", Fails(() => PluginInput.ReadAll(stdin)));
    }

    [Fact]
    public void Netavark_1_6_input_with_nulls_parses()
    {
        var network = PluginInput.Parse(Netavark16Network, NetavarkJsonContext.Default.Network, "podman network");

        Assert.Equal("lan", network.Name);
        Assert.Equal("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", network.Id);
        Assert.Equal("net-porter", network.Driver);
        Assert.Null(network.NetworkInterface);
        Assert.Null(network.Subnets);
        Assert.Null(network.NetworkDnsServers);
        Assert.Null(network.IpamOptions);
        Assert.True(network.DnsEnabled);
        Assert.Equal(new Dictionary<string, string> { ["resource"] = "macvlan-dhcp" }, network.Options);
    }

    [Fact]
    public void Netavark_2_input_without_the_optional_fields_parses()
    {
        var network = PluginInput.Parse(Netavark2Network, NetavarkJsonContext.Default.Network, "podman network");

        Assert.Equal("lan", network.Name);
        Assert.True(network.Internal);
        Assert.False(network.DnsEnabled);
        Assert.Null(network.NetworkInterface);
        Assert.Null(network.IpamOptions);
        var subnet = Assert.Single(network.Subnets!);
        Assert.Equal("192.168.1.0/24", subnet.Value);
        Assert.Equal("192.168.1.1", subnet.Gateway);
        Assert.Null(subnet.LeaseRange);
    }

    [Fact]
    public void A_missing_container_id_is_named()
    {
        var json = Encoding.UTF8.GetBytes("""
            {"container_name": "web", "network": {"name": "lan", "id": "1", "driver": "net-porter"}, "network_options": {"interface_name": "eth0"}}
            """);

        var message = Fails(() => PluginInput.Parse(json, NetavarkJsonContext.Default.NetworkPluginExec, "netavark setup"));

        Assert.Equal(
            $"stdin is not valid netavark setup JSON: missing required field(s) 'container_id' at $ (line 1, byte {json.Length + 1})",
            message);
    }

    [Fact]
    public void A_wrong_type_is_reported_with_its_json_path_and_line()
    {
        var json = Encoding.UTF8.GetBytes("""
            {
              "container_id": "c1",
              "container_name": "web",
              "port_mappings": [{"container_port": "80", "host_ip": "", "host_port": 80, "protocol": "tcp", "range": 1}],
              "network": {"name": "lan", "id": "1", "driver": "net-porter"},
              "network_options": {"interface_name": "eth0"}
            }
            """);

        var message = Fails(() => PluginInput.Parse(json, NetavarkJsonContext.Default.NetworkPluginExec, "netavark setup"));

        Assert.StartsWith("stdin is not valid netavark setup JSON: expected a whole number from 0 to 65535", message, StringComparison.Ordinal);
        // System.Text.Json reports the byte just after the offending token ("80" spans bytes 40-43).
        Assert.EndsWith(" at $.port_mappings[0].container_port (line 4, byte 44)", message, StringComparison.Ordinal);
        Assert.DoesNotContain("Path: ", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Broken_json_is_reported_with_its_position()
    {
        var message = Fails(() => PluginInput.Parse("{\n  \"name\": \"lan\"\n  \"id\": \"1\"}"u8.ToArray(), NetavarkJsonContext.Default.Network, "podman network"));

        Assert.StartsWith("stdin is not valid podman network JSON: ", message, StringComparison.Ordinal);
        Assert.EndsWith("(line 3, byte 3)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_null_document_is_refused()
    {
        Assert.Equal("stdin holds null instead of podman network",
            Fails(() => PluginInput.Parse("null"u8.ToArray(), NetavarkJsonContext.Default.Network, "podman network")));
    }

    [Fact]
    public void Comments_and_trailing_commas_are_refused_as_serde_would()
    {
        var message = Fails(() => PluginInput.Parse("""{"name": "lan", "id": "1", "driver": "d",}"""u8.ToArray(), NetavarkJsonContext.Default.Network, "podman network"));
        Assert.StartsWith("stdin is not valid podman network JSON: ", message, StringComparison.Ordinal);
    }
}
