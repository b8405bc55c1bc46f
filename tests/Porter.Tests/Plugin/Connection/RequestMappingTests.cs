using System.Text;
using Porter.Plugin.Connection;
using Porter.Plugin.Netavark;
using Porter.Protocol.V1;
using Xunit;
using ProtoNetwork = Porter.Protocol.V1.Network;
using ProtoPortMapping = Porter.Protocol.V1.PortMapping;

namespace Porter.Tests.Plugin.Connection;

public sealed class RequestMappingTests
{
    /// <summary>What netavark 1.x pipes to "setup": a network with two subnets, static addresses, a static MAC and ports.</summary>
    public const string SetupInput = """
        {
          "container_id": "3f6b0e2c9a1d",
          "container_name": "web",
          "port_mappings": [
            {"container_port": 80, "host_ip": "", "host_port": 8080, "protocol": "tcp,udp", "range": 2},
            {"container_port": 53, "host_ip": "127.0.0.1", "host_port": 5353, "protocol": "udp", "range": 1}
          ],
          "network": {
            "name": "lan",
            "id": "9f86d081884c7d65",
            "driver": "net-porter",
            "network_interface": "eth0",
            "subnets": [
              {"subnet": "192.168.1.0/24", "gateway": "192.168.1.1", "lease_range": {"start_ip": "192.168.1.100", "end_ip": "192.168.1.199"}},
              {"subnet": "fd00::/64"}
            ],
            "ipv6_enabled": true,
            "internal": false,
            "dns_enabled": false,
            "options": {"resource": "macvlan-static"},
            "ipam_options": {"driver": "host-local"}
          },
          "network_options": {
            "interface_name": "eth1",
            "aliases": ["web", "www"],
            "static_ips": ["192.168.1.50", "fd00::50"],
            "static_mac": "02:42:ac:11:00:02"
          }
        }
        """;

    private static NetworkPluginExec Exec(string json = SetupInput) =>
        PluginInput.Parse(Encoding.UTF8.GetBytes(json), NetavarkJsonContext.Default.NetworkPluginExec, "netavark setup");

    private static ProtoNetwork ExpectedNetwork()
    {
        var network = new ProtoNetwork
        {
            Name = "lan",
            Id = "9f86d081884c7d65",
            Driver = "net-porter",
            IpamDriver = "host-local",
            Internal = false,
            Ipv6Enabled = true,
            DnsEnabled = false,
            NetworkInterface = "eth0",
            Options = { ["resource"] = "macvlan-static" },
        };
        network.Subnets.Add(new NetworkSubnet { Subnet = "192.168.1.0/24", Gateway = "192.168.1.1", LeaseStart = "192.168.1.100", LeaseEnd = "192.168.1.199" });
        network.Subnets.Add(new NetworkSubnet { Subnet = "fd00::/64", Gateway = "", LeaseStart = "", LeaseEnd = "" });
        return network;
    }

    [Fact]
    public void ToSetup_copies_everything_the_server_needs()
    {
        var request = RequestMapping.ToSetup(Exec(), "macvlan-static", "/run/user/1000/netns/netns-1");

        var expected = new SetupRequest
        {
            Resource = "macvlan-static",
            NetnsPath = "/run/user/1000/netns/netns-1",
            ContainerId = "3f6b0e2c9a1d",
            ContainerName = "web",
            InterfaceName = "eth1",
            StaticIps = { "192.168.1.50", "fd00::50" },
            StaticMac = "02:42:ac:11:00:02",
            Aliases = { "web", "www" },
            PortMappings =
            {
                new ProtoPortMapping { ContainerPort = 80, HostPort = 8080, Range = 2, Protocol = "tcp,udp", HostIp = "" },
                new ProtoPortMapping { ContainerPort = 53, HostPort = 5353, Range = 1, Protocol = "udp", HostIp = "127.0.0.1" },
            },
            Network = ExpectedNetwork(),
        };
        Assert.Equal(expected, request);
    }

    [Fact]
    public void ToSetup_of_a_minimal_input_leaves_optional_fields_empty()
    {
        var request = RequestMapping.ToSetup(Exec("""
            {"container_id": "c1", "container_name": "n",
             "network": {"name": "lan", "id": "1", "driver": "net-porter", "subnets": null, "options": null, "ipam_options": null},
             "network_options": {"interface_name": "eth0", "static_ips": null, "static_mac": null, "aliases": null}}
            """), "lan", "/proc/1/ns/net");

        var expected = new SetupRequest
        {
            Resource = "lan",
            NetnsPath = "/proc/1/ns/net",
            ContainerId = "c1",
            ContainerName = "n",
            InterfaceName = "eth0",
            StaticMac = "",
            Network = new ProtoNetwork { Name = "lan", Id = "1", Driver = "net-porter", IpamDriver = "", NetworkInterface = "" },
        };
        Assert.Equal(expected, request);
    }

    [Fact]
    public void ToTeardown_names_the_attachment()
    {
        var request = RequestMapping.ToTeardown(Exec(), "macvlan-static", "/run/user/1000/netns/netns-1");

        var expected = new TeardownRequest
        {
            Resource = "macvlan-static",
            NetnsPath = "/run/user/1000/netns/netns-1",
            ContainerId = "3f6b0e2c9a1d",
            InterfaceName = "eth1",
            Network = ExpectedNetwork(),
        };
        Assert.Equal(expected, request);
    }
}
