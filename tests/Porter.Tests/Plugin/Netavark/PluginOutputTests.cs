using System.Text;
using Porter.Plugin.Netavark;
using Porter.Protocol.V1;
using Xunit;

namespace Porter.Tests.Plugin.Netavark;

public sealed class PluginOutputTests
{
    [Fact]
    public void StatusBlock_is_written_as_netavark_writes_it()
    {
        var status = new StatusBlock
        {
            DnsServerIps = { "192.168.1.1", "fd00::1" },
            Interfaces =
            {
                ["eth1"] = new NetInterface { MacAddress = "" },
                ["eth0"] = new NetInterface
                {
                    MacAddress = "02:42:ac:11:00:02",
                    Subnets =
                    {
                        new NetAddress { Ipnet = "192.168.1.20/24", Gateway = "192.168.1.1" },
                        new NetAddress { Ipnet = "fd00::20/64", Gateway = "" },
                    },
                },
            },
        };

        Assert.Equal(
            Quotes("{'dns_search_domains':[],'dns_server_ips':['192.168.1.1','fd00::1'],'interfaces':{" +
                "'eth0':{'mac_address':'02:42:ac:11:00:02','subnets':[{'ipnet':'192.168.1.20/24','gateway':'192.168.1.1'},{'ipnet':'fd00::20/64','gateway':null}]}," +
                "'eth1':{'mac_address':'','subnets':[]}}}"),
            Encoding.UTF8.GetString(PluginOutput.StatusBlock(status)));
    }

    [Fact]
    public void An_empty_StatusBlock_still_has_every_field()
    {
        Assert.Equal("""{"dns_search_domains":[],"dns_server_ips":[],"interfaces":{}}""",
            Encoding.UTF8.GetString(PluginOutput.StatusBlock(new StatusBlock())));
    }

    [Fact]
    public void Error_is_one_object_with_the_message_readable()
    {
        Assert.Equal("""{"error":"resource 'lan' <x> & \"ü\"\nsecond line"}""",
            Encoding.UTF8.GetString(PluginOutput.Error("resource 'lan' <x> & \"ü\"\nsecond line")));
    }

    [Fact]
    public void WriteJson_ends_the_document_with_a_newline()
    {
        using var stdout = new MemoryStream();
        PluginOutput.WriteJson(stdout, PluginOutput.Error("x"));
        Assert.Equal("{\"error\":\"x\"}\n", Encoding.UTF8.GetString(stdout.ToArray()));
    }

    [Fact]
    public void Info_reports_plugin_api_1_0_0()
    {
        Assert.Equal(
            Quotes("{'version':'0.1.0','api_version':'1.0.0'," +
                "'description':'net-porter: LAN networking (macvlan, ipvlan, bridge) for rootless podman through net-porter-server'," +
                "'protocol':'netporter.v1.Porter','default_socket':'/run/net-porter.sock'}"),
            Encoding.UTF8.GetString(PluginOutput.Info("0.1.0", "/run/net-porter.sock")));
    }

    /// <summary>Expected JSON written with single quotes, for readability.</summary>
    private static string Quotes(string json) => json.Replace('\'', '"');
}
