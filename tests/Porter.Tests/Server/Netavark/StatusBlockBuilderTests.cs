using System.Text.Json.Nodes;
using Porter.Protocol.V1;
using Porter.Server.Cni.Types;
using Porter.Server.Netavark;
using Porter.Tests.Server.Cni.Types;
using Xunit;

namespace Porter.Tests.Server.Netavark;

public sealed class StatusBlockBuilderTests
{
    private static CniResult Result(string json) => CniResult.Parse(JsonNode.Parse(json)!.AsObject());

    private static NetInterface Interface(string mac, params (string Ipnet, string Gateway)[] subnets)
    {
        var iface = new NetInterface { MacAddress = mac };
        iface.Subnets.AddRange(subnets.Select(s => new NetAddress { Ipnet = s.Ipnet, Gateway = s.Gateway }));
        return iface;
    }

    [Fact]
    public void A_macvlan_result_reports_its_one_interface()
    {
        var block = StatusBlockBuilder.Build(Result(CniResultTests.MacvlanResult), "eth0");

        var expected = new StatusBlock
        {
            Interfaces = { ["eth0"] = Interface("aa:bb:cc:dd:ee:ff", ("192.168.1.20/24", "192.168.1.1")) },
            DnsServerIps = { "192.168.1.1" },
            DnsSearchDomains = { "lan", "corp" },
        };
        Assert.Equal(expected, block);
    }

    [Fact]
    public void A_bridge_result_reports_only_the_container_side_interface()
    {
        var result = Result("""
            {
              "cniVersion": "1.0.0",
              "interfaces": [
                {"name": "cni-podman1", "mac": "0A:00:00:00:00:01"},
                {"name": "veth1a2b3c", "mac": "0A:00:00:00:00:02", "sandbox": ""},
                {"name": "eth0", "mac": "0A:00:00:00:00:03", "sandbox": "/proc/4242/ns/net"}
              ],
              "ips": [{"interface": 2, "address": "10.89.0.5/24", "gateway": "10.89.0.1"}]
            }
            """);

        var block = StatusBlockBuilder.Build(result, "eth0");

        var expected = new StatusBlock { Interfaces = { ["eth0"] = Interface("0a:00:00:00:00:03", ("10.89.0.5/24", "10.89.0.1")) } };
        Assert.Equal(expected, block);
    }

    [Fact]
    public void Addresses_of_host_side_interfaces_are_left_out()
    {
        var result = Result("""
            {
              "interfaces": [{"name": "br0", "mac": "0a:00:00:00:00:01"}, {"name": "eth1", "mac": "0a:00:00:00:00:03", "sandbox": "/n"}],
              "ips": [{"interface": 0, "address": "10.89.0.1/24"}, {"interface": 1, "address": "10.89.0.5/24"}]
            }
            """);

        var block = StatusBlockBuilder.Build(result, "eth1");

        Assert.Equal(new StatusBlock { Interfaces = { ["eth1"] = Interface("0a:00:00:00:00:03", ("10.89.0.5/24", "")) } }, block);
    }

    [Fact]
    public void An_ipam_only_result_is_reported_under_the_requested_interface()
    {
        var result = Result("""{"cniVersion": "1.0.0", "ips": [{"address": "192.168.1.9/24", "gateway": "192.168.1.1"}, {"address": "fd00::9/64"}]}""");

        var block = StatusBlockBuilder.Build(result, "eth3");

        var expected = new StatusBlock
        {
            Interfaces = { ["eth3"] = Interface("", ("192.168.1.9/24", "192.168.1.1"), ("fd00::9/64", "")) },
        };
        Assert.Equal(expected, block);
    }

    [Fact]
    public void Addresses_without_interface_index_go_to_the_single_container_interface()
    {
        var result = Result("""
            {"interfaces": [{"name": "eth0", "mac": "02:00:00:00:00:01", "sandbox": "/n"}], "ips": [{"address": "192.168.1.9/24"}]}
            """);

        var block = StatusBlockBuilder.Build(result, "eth0");

        Assert.Equal(new StatusBlock { Interfaces = { ["eth0"] = Interface("02:00:00:00:00:01", ("192.168.1.9/24", "")) } }, block);
    }

    [Fact]
    public void A_host_only_result_names_the_interface_by_ifName()
    {
        var result = Result("""{"interfaces": [{"name": "eth0", "mac": "02:00:00:00:00:01"}], "ips": [{"interface": 0, "address": "192.168.1.9/24"}]}""");

        var block = StatusBlockBuilder.Build(result, "eth0");

        Assert.Equal(new StatusBlock { Interfaces = { ["eth0"] = Interface("02:00:00:00:00:01", ("192.168.1.9/24", "")) } }, block);
    }

    [Fact]
    public void Dns_keeps_valid_nameservers_and_adds_the_domain_to_search()
    {
        var result = Result("""
            {"dns": {"nameservers": ["192.168.1.1", "not-an-ip", "fd00::1", "", "1.2.3.4/24"], "domain": "example.lan", "search": ["a.lan"]}}
            """);

        var block = StatusBlockBuilder.Build(result, "eth0");

        Assert.Equal(["192.168.1.1", "fd00::1"], block.DnsServerIps);
        Assert.Equal(["a.lan", "example.lan"], block.DnsSearchDomains);
        Assert.Empty(block.Interfaces);
    }

    [Fact]
    public void Names_and_addresses_that_would_change_resolv_conf_beyond_themselves_are_left_out()
    {
        var result = Result("""
            {"dns": {"nameservers": ["192.168.1.1", "fd00::1%eth0", "10.1"], "domain": "lan\nnameserver 203.0.113.9", "search": ["a.lan", "b c", ""]}}
            """);

        var block = StatusBlockBuilder.Build(result, "eth0");

        Assert.Equal(["192.168.1.1"], block.DnsServerIps);
        Assert.Equal(["a.lan"], block.DnsSearchDomains);
    }

    [Fact]
    public void The_domain_is_not_repeated_when_search_has_it()
    {
        var block = StatusBlockBuilder.Build(Result("""{"dns": {"domain": "lan", "search": ["lan", "corp"]}}"""), "eth0");
        Assert.Equal(["lan", "corp"], block.DnsSearchDomains);
    }

    [Fact]
    public void A_missing_gateway_is_taken_from_the_podman_subnet_that_contains_the_address()
    {
        var result = Result("""
            {
              "interfaces": [{"name": "eth0", "mac": "02:00:00:00:00:01", "sandbox": "/n"}],
              "ips": [
                {"interface": 0, "address": "192.168.1.9/24"},
                {"interface": 0, "address": "10.0.0.9/24"},
                {"interface": 0, "address": "172.16.0.9/24", "gateway": "172.16.0.254"},
                {"interface": 0, "address": "fd00::9/64"}
              ]
            }
            """);
        (string, string)[] subnets =
        [
            ("172.16.0.0/24", "172.16.0.1"),
            ("192.168.0.0/16", ""),              // contains it, but has no gateway to give
            ("192.168.1.0/24", "192.168.1.1"),
            ("fd00::/64", "fd00::1"),
        ];

        var block = StatusBlockBuilder.Build(result, "eth0", subnets);

        var expected = Interface("02:00:00:00:00:01",
            ("192.168.1.9/24", "192.168.1.1"),
            ("10.0.0.9/24", ""),                  // outside every subnet
            ("172.16.0.9/24", "172.16.0.254"),    // the result's own gateway wins
            ("fd00::9/64", "fd00::1"));
        Assert.Equal(expected, block.Interfaces["eth0"]);
    }
}
