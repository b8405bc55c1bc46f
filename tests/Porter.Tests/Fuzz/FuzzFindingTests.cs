using Porter.Plugin;
using Porter.Plugin.Commands;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Types;
using Porter.Server.Configuration;
using Porter.Server.Dhcp;
using Porter.Server.Json;
using Porter.Server.Net;
using Xunit;

namespace Porter.Tests.Fuzz;

/// <summary>
/// One test per fuzzing finding (fuzz/README.md lists them), on its committed minimized input in fuzz/regressions:
/// each once escaped as an exception nobody expected; now each is refused with a message that says what and where.
/// </summary>
public sealed class FuzzFindingTests
{
    private static byte[] Input(string target, string name) =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fuzz", "regressions", target, name));

    private const string ConfigFile = "/etc/net-porter/config.json";
    private const string CniFile = "/etc/net-porter/cni.d/n.conflist";

    // Finding 1: config.json or a CNI file that is not UTF-8 threw InvalidOperationException wherever a string was
    // first read (the offsets index, ConfigNode.AsString, a plugin's raw text).
    [Theory]
    [InlineData("invalid-utf8-key.json", 1, 3, "0x80")]
    [InlineData("invalid-utf8-string.json", 1, 33, "0xff")]
    public void Config_that_is_not_UTF8_is_refused_where_it_stops_being_UTF8(string name, int line, int column, string bad)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(ConfigFile, Input("config", name)));

        Assert.Equal($"{ConfigFile}:{line}:{column}: invalid UTF-8 (byte {bad}): the file must be UTF-8 text", e.Message);
    }

    [Theory]
    [InlineData("invalid-utf8-key.conflist", 1, 3)]
    [InlineData("invalid-utf8-version.conflist", 1, 39)]
    [InlineData("invalid-utf8-plugin.conflist", 1, 73)]
    public void A_CNI_file_that_is_not_UTF8_is_refused_where_it_stops_being_UTF8(string name, int line, int column)
    {
        var e = Assert.Throws<ConfigException>(() => NetworkConfigLoader.ParseList(Input("cni-config", name), CniFile, null, null));

        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.StartsWith("invalid UTF-8 (byte 0x", e.Problem, StringComparison.Ordinal);
    }

    // Finding 2: a key given twice in a CNI plugin object threw ArgumentException (from the JSON object built to add
    // host-local's dataDir). Found by review of finding 1's code, confirmed with the cni-config target.
    [Fact]
    public void A_duplicate_key_in_a_CNI_file_is_refused_with_both_places()
    {
        var e = Assert.Throws<ConfigException>(() =>
            NetworkConfigLoader.ParseList(Input("cni-config", "duplicate-key-host-local.conflist"), CniFile, null, new CniLoadOptions("/var/lib/np/host-local")));

        Assert.Equal($"{CniFile}:1:75: plugins[0]: duplicate key 'bridge' (first at line 1, column 62)", e.Message);
    }

    [Fact]
    public void A_duplicate_key_in_config_json_is_refused()
    {
        var e = Assert.Throws<ConfigException>(() =>
            ConfigLoader.Parse(ConfigFile, "{\"log\": {\"level\": \"info\"},\n \"log\": {}}"u8.ToArray()));

        Assert.Equal($"{ConfigFile}:2:2: duplicate key 'log' (first at line 1, column 2)", e.Message);
    }

    // Finding 9: a comment inside a plugin object threw JsonReaderException when the plugin's raw text was parsed
    // again to build the copy that is run and cached.
    [Fact]
    public void A_comment_inside_a_CNI_plugin_is_allowed_and_left_out_of_what_the_plugins_get()
    {
        var list = NetworkConfigLoader.ParseList(Input("cni-config", "comment-in-plugin.conflist"), CniFile, null, new CniLoadOptions("/var/lib/np/host-local"));

        var plugin = list.MainPlugin.ToJsonObject();
        Assert.Equal("eth0", (string?)plugin["master"]);
        Assert.False(plugin.ContainsKey("mode"));
        Assert.Equal("hosp-local", list.MainPlugin.IpamType);
        Assert.DoesNotContain("//", System.Text.Encoding.UTF8.GetString(list.Bytes), StringComparison.Ordinal);
        Assert.Equal("ipvlan.l3", NetworkConfigList.FromBytes(list.Bytes, "/var/lib/np/cache/x").Name);
    }

    // Findings 3 and 4: a CNI result with a key given twice, or not UTF-8, threw ArgumentException or
    // InvalidOperationException from CniResult.Parse (CniRuntime then left the ADD without rollback); now FormatException,
    // which CniRuntime reports as the plugin's CniException and rolls back.
    [Theory]
    [InlineData("duplicate-key.json", "the result is not valid JSON: Duplicate property 'ips' encountered during deserialization.")]
    [InlineData("invalid-utf8.json", "the result is not valid UTF-8")]
    public void A_malformed_CNI_result_is_a_FormatException(string name, string message)
    {
        var e = Assert.Throws<FormatException>(() => CniResult.Parse(CniResult.ReadObject(Input("cni-result", name))));

        Assert.Equal(message, e.Message);
    }

    // Findings 5 and 6: podman network JSON for create with a key that is not UTF-8, or a key given twice, threw
    // InvalidOperationException or ArgumentException when the echoed document was amended ("internal error").
    [Theory]
    [InlineData("invalid-utf8-key.json", "stdin is not UTF-8 text (an invalid byte sequence at byte 61)")]
    [InlineData("duplicate-key.json", "stdin is not valid podman network JSON: duplicate key 'x'")]
    public void Create_refuses_what_it_could_not_echo(string name, string message)
    {
        using var stdin = new MemoryStream(Input("netavark-create", name));

        var e = Assert.Throws<PluginException>(() => CreateCommand.ReadInput(stdin));

        Assert.Equal(message, e.Message);
    }

    // Finding 7: a null inside netavark's maps or lists (here a network option) reached protobuf, which threw
    // ArgumentNullException ("internal error"). Now refused at parsing, like a null in a required field.
    [Fact]
    public void Setup_refuses_a_null_option_value()
    {
        using var stdin = new MemoryStream(Input("netavark-setup", "null-option-value.json"));
        var context = new PluginContext(["setup", "/run/netns/x"], stdin, Stream.Null, TextWriter.Null);

        var e = Assert.Throws<PluginException>(() => AttachInput.Read(context, "setup"));

        Assert.Equal("stdin is not valid netavark plugin JSON: 'options' holds a null value at $.network (line 1, byte 119)", e.Message);
    }

    [Theory]
    [InlineData("""{"container_id":"c","container_name":"","network":{"name":null,"id":"","driver":""},"network_options":{"interface_name":"eth0"}}""",
        "'name' may not be null at $.network.name (line 1, byte 63)")]
    [InlineData("""{"container_id":"c","container_name":"","port_mappings":[null],"network":{"name":"n","id":"","driver":""},"network_options":{"interface_name":"eth0"}}""",
        "'port_mappings' holds a null value at $ (line 1, byte 151)")]
    [InlineData("""{"container_id":"c","container_name":"","network":{"name":"n","id":"","driver":""},"network_options":{"interface_name":"eth0","static_ips":[null]}}""",
        "'static_ips' holds a null value at $.network_options (line 1, byte 147)")]
    public void Setup_refuses_null_where_netavark_never_writes_one(string json, string problem)
    {
        using var stdin = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        var context = new PluginContext(["setup", "/run/netns/x"], stdin, Stream.Null, TextWriter.Null);

        var e = Assert.Throws<PluginException>(() => AttachInput.Read(context, "setup"));

        Assert.Equal($"stdin is not valid netavark plugin JSON: {problem}", e.Message);
    }

    // Finding 8: a DHCP reply's domain name (option 15) and search list (option 119) went to the container's resolv.conf
    // byte for byte, so anyone answering on the LAN could add lines to it ("lan\nnameserver 203.0.113.9").
    [Theory]
    [InlineData("domain-name-newline.bin")]
    [InlineData("search-list-newline.bin")]
    public void A_DHCP_name_that_is_not_a_DNS_name_is_left_out(string name)
    {
        var packet = Input("dhcp", name);

        Assert.True(DhcpInform.TryParseAck(packet, 0x2a5f1c03, out var info));

        Assert.Equal(["192.168.1.1"], info.Servers);
        Assert.Empty(info.SearchDomains);
    }

    [Theory]
    [InlineData("lan", true)]
    [InlineData("corp.example.", true)]
    [InlineData("_srv.lan", true)]
    [InlineData("lan\nnameserver 203.0.113.9", false)]
    [InlineData("a b", false)]
    [InlineData("a..b", false)]
    [InlineData("", false)]
    public void IsDnsName(string name, bool expected) => Assert.Equal(expected, DnsNames.IsValid(name));
}
