using System.Text;
using System.Text.Json;
using Porter.Server.Cni.Config;
using Porter.Server.Configuration;
using Porter.Server.Json;
using Xunit;

namespace Porter.Tests.Server.Cni.Config;

public sealed class NetworkConfigLoaderTests : IDisposable
{
    private static readonly CniLoadOptions Options = new("/var/lib/net-porter/host-local");
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static NetworkConfigList Parse(string json, string? expectedName = null, CniLoadOptions? options = null, string path = "/etc/net-porter/cni.d/x.conflist") =>
        NetworkConfigLoader.ParseList(Encoding.UTF8.GetBytes(json), path, expectedName, options ?? Options);

    private static ConfigException Fails(string json) => Assert.Throws<ConfigException>(() => Parse(json));

    private const string MacvlanHostLocal = """
        {
          "cniVersion": "1.0.0",
          "name": "lan",
          "plugins": [
            {"type": "macvlan", "master": "eth0", "ipam": {"type": "host-local", "ranges": [[{"subnet": "192.168.1.0/24"}]]}},
            {"type": "tuning", "capabilities": {"mac": true}}
          ]
        }
        """;

    [Fact]
    public void A_conflist_is_read_and_normalised()
    {
        var list = Parse(MacvlanHostLocal);

        Assert.Equal("lan", list.Name);
        Assert.Equal("1.0.0", list.CniVersion);
        Assert.Empty(list.CniVersions);
        Assert.False(list.DisableCheck);
        Assert.Equal("/etc/net-porter/cni.d/x.conflist", list.SourcePath);
        Assert.Equal(["macvlan", "tuning"], list.Plugins.Select(p => p.Type));
        Assert.Equal("host-local", list.MainPlugin.IpamType);
        Assert.Null(list.Plugins[1].IpamType);
        Assert.Equal(
            """{"cniVersion":"1.0.0","name":"lan","plugins":[{"type":"macvlan","master":"eth0","ipam":{"type":"host-local","ranges":[[{"subnet":"192.168.1.0/24"}]],"dataDir":"/var/lib/net-porter/host-local"}},{"type":"tuning","capabilities":{"mac":true}}]}""",
            Encoding.UTF8.GetString(list.Bytes));
    }

    [Fact]
    public void A_single_plugin_conf_is_wrapped_as_a_one_plugin_list()
    {
        var list = Parse("""{"cniVersion": "0.4.0", "name": "l2", "type": "macvlan", "master": "eth0"}""");

        Assert.Equal("l2", list.Name);
        Assert.Equal("0.4.0", list.CniVersion);
        var plugin = Assert.Single(list.Plugins);
        Assert.Equal("macvlan", plugin.Type);
        Assert.Null(plugin.IpamType);
        Assert.Equal("eth0", plugin.Json.GetProperty("master").GetString());
        Assert.Equal(
            """{"cniVersion":"0.4.0","name":"l2","plugins":[{"cniVersion":"0.4.0","name":"l2","type":"macvlan","master":"eth0"}]}""",
            Encoding.UTF8.GetString(list.Bytes));
    }

    [Fact]
    public void FromBytes_rebuilds_the_same_list_from_the_normalised_bytes()
    {
        var list = Parse(MacvlanHostLocal);
        var again = NetworkConfigList.FromBytes(list.Bytes, "/cache/entry");

        Assert.Equal(list.Bytes, again.Bytes);
        Assert.Equal("/cache/entry", again.SourcePath);
        Assert.Equal("/var/lib/net-porter/host-local", again.MainPlugin.Json.GetProperty("ipam").GetProperty("dataDir").GetString());
    }

    [Fact]
    public void host_local_gets_the_servers_dataDir()
    {
        var list = Parse(MacvlanHostLocal, options: new CniLoadOptions("/srv/state/host-local"));
        Assert.Equal("/srv/state/host-local", list.MainPlugin.Json.GetProperty("ipam").GetProperty("dataDir").GetString());
    }

    [Fact]
    public void An_explicit_dataDir_is_kept()
    {
        var list = Parse("""
            {"cniVersion": "1.0.0", "name": "lan", "type": "bridge",
             "ipam": {"type": "host-local", "dataDir": "/srv/ipam", "subnet": "10.1.0.0/24"}}
            """);
        Assert.Equal("/srv/ipam", list.MainPlugin.Json.GetProperty("ipam").GetProperty("dataDir").GetString());
    }

    [Fact]
    public void dataDir_is_injected_only_for_host_local_and_only_with_options()
    {
        var staticIpam = Parse("""{"cniVersion": "1.0.0", "name": "lan", "type": "macvlan", "ipam": {"type": "static"}}""");
        Assert.False(staticIpam.MainPlugin.Json.GetProperty("ipam").TryGetProperty("dataDir", out _));

        var noOptions = NetworkConfigLoader.ParseList(Encoding.UTF8.GetBytes(MacvlanHostLocal), "/x", null, options: null);
        Assert.False(noOptions.MainPlugin.Json.GetProperty("ipam").TryGetProperty("dataDir", out _));
    }

    [Fact]
    public void An_empty_ipam_object_means_no_ipam()
    {
        var list = Parse("""{"cniVersion": "1.0.0", "name": "lan", "type": "macvlan", "ipam": {}}""");
        Assert.Null(list.MainPlugin.IpamType);
    }

    [Fact]
    public void Capabilities_are_parsed()
    {
        var list = Parse("""
            {"cniVersion": "1.0.0", "name": "lan", "plugins": [
              {"type": "macvlan", "capabilities": {"ips": true, "mac": false}},
              {"type": "portmap", "capabilities": {"portMappings": true}}
            ]}
            """);

        var main = list.MainPlugin;
        Assert.Equal(2, main.Capabilities.Count);
        Assert.True(main.Capabilities["ips"]);
        Assert.False(main.Capabilities["mac"]);
        Assert.True(main.HasCapability("ips"));
        Assert.False(main.HasCapability("mac"));
        Assert.False(main.HasCapability("portMappings"));
        Assert.True(list.Plugins[1].HasCapability("portMappings"));
    }

    [Fact]
    public void A_capability_must_be_a_boolean()
    {
        var e = Fails("""{"cniVersion": "1.0.0", "name": "lan", "type": "macvlan", "capabilities": {"ips": "yes"}}""");
        Assert.Equal("capabilities.ips", e.JsonPath);
        Assert.Equal("expected true or false, found a string", e.Problem);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("\"true\"", true)]
    [InlineData("false", false)]
    [InlineData("\"false\"", false)]
    public void disableCheck_may_be_a_boolean_or_its_string(string value, bool expected)
    {
        var list = Parse($$"""{"cniVersion": "1.0.0", "name": "lan", "disableCheck": {{value}}, "plugins": [{"type": "macvlan"}]}""");

        Assert.Equal(expected, list.DisableCheck);
        var normalized = Encoding.UTF8.GetString(list.Bytes);
        if (expected)
        {
            Assert.Contains("\"disableCheck\":true", normalized, StringComparison.Ordinal);
        }
        else
        {
            Assert.DoesNotContain("disableCheck", normalized, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void disableCheck_of_another_string_is_refused()
    {
        var e = Fails("""{"cniVersion": "1.0.0", "name": "lan", "disableCheck": "yes", "plugins": [{"type": "macvlan"}]}""");
        Assert.Equal("disableCheck", e.JsonPath);
        Assert.Equal("expected true or false, found a string", e.Problem);
    }

    [Fact]
    public void Unknown_plugin_keys_are_kept_for_the_plugin()
    {
        var list = Parse("""
            {"cniVersion": "1.0.0", "name": "br", "plugins": [
              {"type": "bridge", "bridge": "br0", "isGateway": true, "x-custom": {"a": [1, 2]}, "mtu": 9000}
            ]}
            """);

        var json = list.MainPlugin.Json;
        Assert.Equal("br0", json.GetProperty("bridge").GetString());
        Assert.True(json.GetProperty("isGateway").GetBoolean());
        Assert.Equal(9000, json.GetProperty("mtu").GetInt32());
        Assert.Equal("""{"a":[1,2]}""", json.GetProperty("x-custom").GetRawText());
        Assert.Equal(JsonValueKind.Object, list.MainPlugin.ToJsonObject()["x-custom"]!.GetValueKind());
    }

    [Fact]
    public void cniVersions_are_read_and_normalised()
    {
        var list = Parse("""{"cniVersion": "1.0.0", "cniVersions": ["1.0.0", "1.1.0"], "name": "lan", "plugins": [{"type": "macvlan"}]}""");
        Assert.Equal<string>(["1.0.0", "1.1.0"], list.CniVersions);
        Assert.StartsWith("""{"cniVersion":"1.0.0","name":"lan","cniVersions":["1.0.0","1.1.0"],""", Encoding.UTF8.GetString(list.Bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void A_plugin_without_type_is_refused()
    {
        var e = Fails("""{"cniVersion": "1.0.0", "name": "lan", "plugins": [{"type": "macvlan"}, {"master": "eth0"}]}""");
        Assert.Equal("plugins[1]", e.JsonPath);
        Assert.Equal("a plugin needs a \"type\"", e.Problem);
    }

    [Theory]
    [InlineData("../macvlan")]
    [InlineData("bin/macvlan")]
    [InlineData("/usr/lib/cni/macvlan")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("")]
    [InlineData("mac vlan")]
    public void A_plugin_type_must_be_a_plain_file_name(string type)
    {
        var e = Fails($$"""{"cniVersion": "1.0.0", "name": "lan", "plugins": [{"type": "{{type}}"}]}""");
        Assert.Equal("plugins[0].type", e.JsonPath);
        Assert.Equal($"'{type}' is not a valid plugin type (a file name in the plugin directory)", e.Problem);
    }

    [Fact]
    public void An_ipam_type_must_be_a_plain_file_name()
    {
        var e = Fails("""{"cniVersion": "1.0.0", "name": "lan", "type": "macvlan", "ipam": {"type": "../dhcp"}}""");
        Assert.Equal("ipam.type", e.JsonPath);
        Assert.Equal("'../dhcp' is not a valid IPAM plugin type", e.Problem);
    }

    [Fact]
    public void A_too_old_cniVersion_is_refused()
    {
        var e = Fails("""{"cniVersion": "0.2.0", "name": "lan", "type": "macvlan"}""");
        Assert.Equal("cniVersion", e.JsonPath);
        Assert.Equal("cniVersion 0.2.0 is too old: net-porter needs 0.3.0 or later", e.Problem);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.0")]
    [InlineData("")]
    public void An_invalid_cniVersion_is_refused(string version)
    {
        var e = Fails($$"""{"cniVersion": "{{version}}", "name": "lan", "plugins": [{"type": "macvlan"}]}""");
        Assert.Equal("cniVersion", e.JsonPath);
        Assert.Equal($"'{version}' is not a CNI version (expected e.g. \"1.0.0\")", e.Problem);
    }

    [Fact]
    public void An_invalid_entry_of_cniVersions_is_refused()
    {
        var e = Fails("""{"cniVersion": "1.0.0", "cniVersions": ["1.1.0", "abc"], "name": "lan", "plugins": [{"type": "macvlan"}]}""");
        Assert.Equal("cniVersions[1]", e.JsonPath);
    }

    [Theory]
    [InlineData("""{"name": "lan", "plugins": [{"type": "macvlan"}]}""", "", "a configuration list needs a \"cniVersion\"")]
    [InlineData("""{"cniVersion": "1.0.0", "plugins": [{"type": "macvlan"}]}""", "", "a configuration list needs a \"name\"")]
    [InlineData("""{"cniVersion": "1.0.0", "type": "macvlan"}""", "", "a network configuration needs a \"name\"")]
    [InlineData("""{"cniVersion": "1.0.0", "name": "lan", "plugins": []}""", "plugins", "the list has no plugins")]
    [InlineData("""{"cniVersion": "1.0.0", "name": "lan"}""", "", "neither a configuration list (no \"plugins\") nor a single plugin configuration (no \"type\")")]
    [InlineData("""{"cniVersion": "1.0.0", "name": "a/b", "type": "macvlan"}""", "name", "'a/b' is not a valid name: use letters, digits, '_', '.' and '-', starting with a letter or digit")]
    public void Incomplete_configurations_are_refused(string json, string path, string problem)
    {
        var e = Fails(json);
        Assert.Equal(path.Length == 0 ? null : path, e.JsonPath);
        Assert.Equal(problem, e.Problem);
    }

    [Fact]
    public void LoadDirectory_reads_conflist_conf_and_json_and_ignores_everything_else()
    {
        _dir.Write("10-lan.conflist", MacvlanHostLocal);
        _dir.Write("20-l2.conf", """{"cniVersion": "0.4.0", "name": "l2", "type": "macvlan", "master": "eth0"}""");
        _dir.Write("macvlan-dhcp.json", """{"cniVersion": "1.0.0", "name": "macvlan-dhcp", "type": "macvlan", "ipam": {"type": "dhcp"}}""");
        _dir.Write("README", "not json at all");
        _dir.Write("README.md", "# not json");
        _dir.Write("10-lan.conflist.bak", "{broken");
        _dir.Write("old.conf~", "{broken");
        _dir.Write(".hidden.conflist", "{broken");
        Directory.CreateDirectory(Path.Combine(_dir.Path, "sub.conflist"));

        var networks = NetworkConfigLoader.LoadDirectory(_dir.Path, Options);

        Assert.Equal(["l2", "lan", "macvlan-dhcp"], networks.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Path.Combine(_dir.Path, "10-lan.conflist"), networks["lan"].SourcePath);
        Assert.Equal("dhcp", networks["macvlan-dhcp"].MainPlugin.IpamType);
        Assert.Equal("/var/lib/net-porter/host-local", networks["lan"].MainPlugin.Json.GetProperty("ipam").GetProperty("dataDir").GetString());
    }

    [Fact]
    public void A_json_file_must_be_named_after_its_network()
    {
        var path = _dir.Write("other.json", """{"cniVersion": "1.0.0", "name": "lan", "type": "macvlan"}""");

        var e = Assert.Throws<ConfigException>(() => NetworkConfigLoader.LoadDirectory(_dir.Path, Options));

        Assert.Equal(path, e.File);
        Assert.Equal("name", e.JsonPath);
        Assert.Equal("the network is named 'lan', but a .json file must be named after its network ('lan.json')", e.Problem);
    }

    [Fact]
    public void Conflist_and_conf_files_may_be_named_anything()
    {
        _dir.Write("whatever.conflist", MacvlanHostLocal);
        Assert.Equal("lan", Assert.Single(NetworkConfigLoader.LoadDirectory(_dir.Path, Options)).Key);
    }

    [Fact]
    public void Duplicate_network_names_across_files_are_refused_naming_the_earlier_file()
    {
        var first = _dir.Write("a.conflist", MacvlanHostLocal);
        var second = _dir.Write("b.conf", """{"cniVersion": "1.0.0", "name": "lan", "type": "ipvlan"}""");

        var e = Assert.Throws<ConfigException>(() => NetworkConfigLoader.LoadDirectory(_dir.Path, Options));

        Assert.Equal(second, e.File);
        Assert.Equal("name", e.JsonPath);
        Assert.Equal($"network 'lan' is already defined in {first}", e.Problem);
    }

    [Fact]
    public void A_broken_file_is_reported_with_its_path()
    {
        var path = _dir.Write("lan.conflist", "{\n  \"cniVersion\": \"1.0.0\"\n  \"name\": \"lan\"\n}");
        var e = Assert.Throws<ConfigException>(() => NetworkConfigLoader.LoadDirectory(_dir.Path, Options));
        Assert.Equal(path, e.File);
        Assert.Equal(3, e.Line);
    }

    [Fact]
    public void A_missing_directory_is_refused()
    {
        var missing = Path.Combine(_dir.Path, "cni.d");
        var e = Assert.Throws<ConfigException>(() => NetworkConfigLoader.LoadDirectory(missing, Options));
        Assert.Equal($"{missing}: the CNI configuration directory does not exist", e.Message);
    }

    [Fact]
    public void An_empty_directory_has_no_networks()
    {
        Assert.Empty(NetworkConfigLoader.LoadDirectory(_dir.Path, Options));
    }
}
