using System.Text.Json.Nodes;
using Porter.Server.Cni.Types;
using Xunit;

namespace Porter.Tests.Server.Cni.Types;

public sealed class CniResultTests
{
    public const string MacvlanResult = """
        {
          "cniVersion": "1.0.0",
          "interfaces": [{"name": "eth0", "mac": "AA:BB:CC:DD:EE:FF", "sandbox": "/proc/4242/ns/net"}],
          "ips": [{"interface": 0, "address": "192.168.1.20/24", "gateway": "192.168.1.1"}],
          "routes": [{"dst": "0.0.0.0/0", "gw": "192.168.1.1"}, {"dst": "10.0.0.0/8"}],
          "dns": {"nameservers": ["192.168.1.1"], "domain": "lan", "search": ["lan", "corp"], "options": ["ndots:1"]}
        }
        """;

    private static CniResult Parse(string json) => CniResult.Parse(JsonNode.Parse(json)!.AsObject());

    [Fact]
    public void A_1_0_0_macvlan_result_is_read_completely()
    {
        var raw = JsonNode.Parse(MacvlanResult)!.AsObject();
        var result = CniResult.Parse(raw);

        Assert.Equal("1.0.0", result.CniVersion);
        Assert.Equal([new CniInterface("eth0", "AA:BB:CC:DD:EE:FF", "/proc/4242/ns/net")], result.Interfaces.AsEnumerable());
        Assert.Equal([new CniIpConfig("192.168.1.20/24", "192.168.1.1", 0)], result.Ips.AsEnumerable());
        Assert.Equal([new CniRoute("0.0.0.0/0", "192.168.1.1"), new CniRoute("10.0.0.0/8", null)], result.Routes.AsEnumerable());
        Assert.Equal(["192.168.1.1"], result.Dns.Nameservers.AsEnumerable());
        Assert.Equal("lan", result.Dns.Domain);
        Assert.Equal(["lan", "corp"], result.Dns.Search.AsEnumerable());
        Assert.Equal(["ndots:1"], result.Dns.Options.AsEnumerable());
        Assert.Same(raw, result.Raw);
    }

    [Fact]
    public void A_0_4_0_result_with_ip_versions_is_read()
    {
        var result = Parse("""
            {
              "cniVersion": "0.4.0",
              "interfaces": [{"name": "cni0", "mac": "aa:aa:aa:aa:aa:aa"}, {"name": "eth0", "mac": "bb:bb:bb:bb:bb:bb", "sandbox": "/proc/1/ns/net"}],
              "ips": [
                {"version": "4", "interface": 1, "address": "10.88.0.5/16", "gateway": "10.88.0.1"},
                {"version": "6", "interface": 1, "address": "fd00::5/64"}
              ],
              "dns": {}
            }
            """);

        Assert.Equal("0.4.0", result.CniVersion);
        Assert.Equal(2, result.Interfaces.Length);
        Assert.Equal("", result.Interfaces[0].Sandbox);
        Assert.Equal([new CniIpConfig("10.88.0.5/16", "10.88.0.1", 1), new CniIpConfig("fd00::5/64", null, 1)], result.Ips.AsEnumerable());
        Assert.Empty(result.Dns.Nameservers);
        Assert.Null(result.Dns.Domain);
    }

    [Fact]
    public void An_ipam_result_has_ips_without_interface()
    {
        var result = Parse("""{"cniVersion": "1.0.0", "ips": [{"address": "192.168.1.9/24"}]}""");

        Assert.Empty(result.Interfaces);
        Assert.Equal([new CniIpConfig("192.168.1.9/24", null, null)], result.Ips.AsEnumerable());
        Assert.Same(CniDns.Empty, result.Dns);
    }

    [Fact]
    public void An_empty_object_is_an_empty_result()
    {
        var result = Parse("{}");
        Assert.Equal("", result.CniVersion);
        Assert.Empty(result.Interfaces);
        Assert.Empty(result.Ips);
        Assert.Empty(result.Routes);
    }

    [Theory]
    [InlineData("""{"interfaces": {}}""", "\"interfaces\" is not an array")]
    [InlineData("""{"interfaces": [5]}""", "interfaces[] is not an object")]
    [InlineData("""{"interfaces": [{"mac": "aa:bb:cc:dd:ee:ff"}]}""", "an interface has no \"name\"")]
    [InlineData("""{"interfaces": [{"name": 7}]}""", "\"name\" is not a string")]
    [InlineData("""{"interfaces": [{"name": "eth0", "mac": 1}]}""", "\"mac\" is not a string")]
    [InlineData("""{"ips": "10.0.0.1/24"}""", "\"ips\" is not an array")]
    [InlineData("""{"ips": [{"interface": -1, "address": "10.0.0.1/24"}]}""", "ips[].interface is not a non-negative integer")]
    [InlineData("""{"ips": [{"interface": "0", "address": "10.0.0.1/24"}]}""", "ips[].interface is not a non-negative integer")]
    [InlineData("""{"ips": [{"interface": 0.5, "address": "10.0.0.1/24"}]}""", "ips[].interface is not a non-negative integer")]
    [InlineData("""{"ips": [{"interface": 0}]}""", "an ips[] entry has no \"address\"")]
    [InlineData("""{"ips": [{"address": ["10.0.0.1/24"]}]}""", "\"address\" is not a string")]
    [InlineData("""{"ips": [{"address": "10.0.0.1/24", "gateway": 1}]}""", "\"gateway\" is not a string")]
    [InlineData("""{"routes": [{"gw": "10.0.0.1"}]}""", "a route has no \"dst\"")]
    [InlineData("""{"dns": {"nameservers": [1]}}""", "dns.nameservers[] is not a string")]
    [InlineData("""{"dns": {"search": "lan"}}""", "\"search\" is not an array")]
    [InlineData("""{"dns": {"options": [null]}}""", "dns.options[] is not a string")]
    [InlineData("""{"cniVersion": 1}""", "\"cniVersion\" is not a string")]
    public void Malformed_results_are_FormatExceptions(string json, string message)
    {
        var e = Assert.Throws<FormatException>(() => Parse(json));
        Assert.Equal(message, e.Message);
    }
}
