using System.Text;
using Porter.Plugin;
using Porter.Plugin.Netns;
using Xunit;

namespace Porter.Tests.Plugin.Netns;

public sealed class NetnsFileTests
{
    private static NetnsFile Parse(string json) => NetnsFile.Parse(Encoding.UTF8.GetBytes(json), "/etc/net-porter/netns/web.json");

    private static string Error(string json) => Assert.Throws<PluginException>(() => Parse(json)).Message;

    [Fact]
    public void The_file_lists_attachments_with_optional_interface_addresses_and_mac()
    {
        var file = Parse("""
            {
              // comments are allowed, as in config.json
              "attachments": [
                { "resource": "lan", "ifname": "eth0", "ips": ["192.168.1.70/24"], "mac": "02:00:00:00:00:01" },
                { "resource": "nat", "ifname": "eth1" }
              ],
              "adopt": true
            }
            """);

        Assert.True(file.Adopt);
        Assert.Equal(["lan", "nat"], file.Attachments.Select(a => a.Resource));
        Assert.Equal(["192.168.1.70/24"], file.Attachments[0].Ips!);
        Assert.Equal("02:00:00:00:00:01", file.Attachments[0].Mac);
        Assert.Null(file.Attachments[1].Ips);
        Assert.False(Parse("""{"attachments": []}""").Adopt);
    }

    [Theory]
    [InlineData("{\n  \"attachments\": [\n    { \"resource\": \"lan\" \"ifname\": \"eth0\" }\n  ]\n}",
        "/etc/net-porter/netns/web.json:3:25: '\"' is invalid after a value. Expected either ',', '}', or ']'. at $.attachments[0]")]
    [InlineData("{\"attachments\": [{\"resource\": \"lan\", \"ips\": \"192.168.1.70\"}]}",
        "/etc/net-porter/netns/web.json:1:59: expected an array of strings at $.attachments[0].ips")]
    [InlineData("{\"attachments\": [{\"resource\": \"lan\", \"ipz\": []}]}",
        "/etc/net-porter/netns/web.json:1:44: unknown key 'ipz' at $.attachments[0].ipz (expected resource, ifname, ips, mac)")]
    [InlineData("{\"attachment\": []}",
        "/etc/net-porter/netns/web.json:1:15: unknown key 'attachment' at $.attachment (expected attachments, adopt)")]
    [InlineData("{\"adopt\": true}",
        "/etc/net-porter/netns/web.json:1:16: missing required field(s) 'attachments' at $")]
    [InlineData("{\"attachments\": [{\"ifname\": \"eth0\"}]}",
        "/etc/net-porter/netns/web.json:1:36: missing required field(s) 'resource' at $.attachments[0]")]
    public void Malformed_files_are_refused_with_file_line_column_and_what_was_expected(string json, string message)
    {
        Assert.Equal(message, Error(json));
    }

    [Fact]
    public void Entries_that_parse_but_make_no_sense_are_refused_at_their_own_position()
    {
        Assert.Equal("/etc/net-porter/netns/web.json:3:5: attachments[1] uses interface eth0, which attachments[0] uses already; give it another \"ifname\"",
            Error("{\"attachments\": [\n    {\"resource\": \"a\"},\n    {\"resource\": \"b\", \"ifname\": \"eth0\"}\n]}"));
        Assert.Equal("/etc/net-porter/netns/web.json:1:18: attachments[0].resource is empty; expected the name of a server resource",
            Error("{\"attachments\": [{\"resource\": \"\"}]}"));
    }

    [Theory]
    [InlineData("web", true)]
    [InlineData("svc-1.lan_2", true)]
    [InlineData("", false)]
    [InlineData("..", false)]
    [InlineData(".hidden", false)]
    [InlineData("a/b", false)]
    [InlineData("a b", false)]
    public void Names_are_plain_file_names(string name, bool valid)
    {
        if (valid)
        {
            NamedNetns.Validate(name);
        }
        else
        {
            Assert.Throws<PluginException>(() => NamedNetns.Validate(name));
        }
    }
}
