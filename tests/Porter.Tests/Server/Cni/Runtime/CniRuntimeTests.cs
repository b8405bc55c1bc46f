using System.Collections.Immutable;
using System.Text;
using System.Text.Json.Nodes;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Runtime;
using Xunit;

namespace Porter.Tests.Server.Cni.Runtime;

/// <summary>The stdin each plugin of a list is given (<see cref="CniRuntime.BuildPluginConfig"/>).</summary>
public sealed class CniRuntimeTests
{
    private static readonly NetworkConfigList List = NetworkConfigLoader.ParseList(Encoding.UTF8.GetBytes("""
        {
          "cniVersion": "1.1.0",
          "name": "lan",
          "plugins": [
            {
              "type": "macvlan",
              "name": "plugin-own-name",
              "cniVersion": "0.3.1",
              "master": "eth0",
              "capabilities": {"ips": true, "mac": true, "portMappings": true, "bandwidth": false},
              "runtimeConfig": {"stale": 1},
              "args": {"cni": {"existing": "x"}, "other": {"k": 1}},
              "prevResult": {"stale": true},
              "ipam": {"type": "static"},
              "x-unknown": [1, {"a": null}]
            },
            {"type": "tuning", "capabilities": {"mac": true}, "sysctl": {"net.ipv4.conf.eth0.arp_notify": "1"}},
            {"type": "portmap", "capabilities": {"portMappings": true}}
          ]
        }
        """), "/x/lan.conflist", null, null);

    private static readonly RuntimeConf Rt = new()
    {
        ContainerId = "1000-abc",
        NetNs = "/proc/4242/ns/net",
        IfName = "eth0",
        Args = [new("K8S_POD_NAME", "web")],
        CapabilityArgs = ImmutableDictionary.CreateRange(StringComparer.Ordinal, new KeyValuePair<string, JsonNode>[]
        {
            new("ips", new JsonArray("192.168.1.5/24")),
            new("mac", JsonValue.Create("aa:bb:cc:dd:ee:ff")),
            new("bandwidth", new JsonObject { ["ingressRate"] = 1000 }),
        }),
        ConfigArgs = ImmutableDictionary.CreateRange(StringComparer.Ordinal, new KeyValuePair<string, JsonNode>[]
        {
            new("ips", new JsonArray("192.168.1.5/24")),
        }),
    };

    private static JsonObject Build(int index, string version = "1.0.0", RuntimeConf? rt = null, JsonObject? prevResult = null) =>
        JsonNode.Parse(CniRuntime.BuildPluginConfig(List, List.Plugins[index], index, version, rt ?? Rt, prevResult))!.AsObject();

    private static void AssertJson(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}\nactual   {actual?.ToJsonString()}");

    [Fact]
    public void The_main_plugin_gets_everything_it_declares_and_the_config_args()
    {
        AssertJson("""
            {
              "type": "macvlan",
              "name": "lan",
              "cniVersion": "1.0.0",
              "master": "eth0",
              "runtimeConfig": {"ips": ["192.168.1.5/24"], "mac": "aa:bb:cc:dd:ee:ff"},
              "args": {"cni": {"existing": "x", "ips": ["192.168.1.5/24"]}, "other": {"k": 1}},
              "ipam": {"type": "static"},
              "x-unknown": [1, {"a": null}]
            }
            """, Build(0));
    }

    [Fact]
    public void Name_and_negotiated_version_override_the_plugins_own_values()
    {
        var conf = Build(0, version: "0.4.0");
        Assert.Equal("lan", conf["name"]!.GetValue<string>());
        Assert.Equal("0.4.0", conf["cniVersion"]!.GetValue<string>());
    }

    [Fact]
    public void capabilities_itself_is_removed()
    {
        for (var i = 0; i < List.Plugins.Length; i++)
        {
            Assert.False(Build(i).ContainsKey("capabilities"), $"plugin {i}");
        }
    }

    [Fact]
    public void runtimeConfig_holds_only_declared_capabilities_that_have_values()
    {
        // tuning declares mac only; bandwidth has a value but nobody declares it (macvlan says false).
        AssertJson("""{"mac": "aa:bb:cc:dd:ee:ff"}""", Build(1)["runtimeConfig"]);
    }

    [Fact]
    public void There_is_no_runtimeConfig_when_nothing_applies()
    {
        // portmap declares portMappings, but the runtime has no port mappings.
        var conf = Build(2);
        Assert.False(conf.ContainsKey("runtimeConfig"));
        AssertJson("""{"type": "portmap", "name": "lan", "cniVersion": "1.0.0"}""", conf);

        // A stale runtimeConfig of the file does not survive either.
        var bare = new RuntimeConf { ContainerId = "c", NetNs = "/n", IfName = "eth0" };
        Assert.False(Build(0, rt: bare).ContainsKey("runtimeConfig"));
    }

    [Fact]
    public void Config_args_go_to_the_first_plugin_only()
    {
        Assert.False(Build(1).ContainsKey("args"));
        Assert.False(Build(2).ContainsKey("args"));
    }

    [Fact]
    public void Without_config_args_the_plugins_own_args_are_untouched()
    {
        var rt = Rt with { ConfigArgs = ImmutableDictionary<string, JsonNode>.Empty };
        AssertJson("""{"cni": {"existing": "x"}, "other": {"k": 1}}""", Build(0, rt: rt)["args"]);
    }

    [Fact]
    public void Config_args_create_args_cni_when_the_plugin_has_none()
    {
        var list = NetworkConfigLoader.ParseList(
            Encoding.UTF8.GetBytes("""{"cniVersion": "1.0.0", "name": "n", "type": "bridge", "ipam": {"type": "host-local"}}"""), "/x", null, null);
        var conf = JsonNode.Parse(CniRuntime.BuildPluginConfig(list, list.MainPlugin, 0, "1.0.0", Rt, null))!.AsObject();
        AssertJson("""{"cni": {"ips": ["192.168.1.5/24"]}}""", conf["args"]);
    }

    [Fact]
    public void prevResult_is_given_when_there_is_one_and_absent_otherwise()
    {
        Assert.False(Build(0).ContainsKey("prevResult"));

        var previous = new JsonObject { ["cniVersion"] = "1.0.0", ["ips"] = new JsonArray(new JsonObject { ["address"] = "192.168.1.5/24" }) };
        var conf = Build(1, prevResult: previous);
        AssertJson("""{"cniVersion": "1.0.0", "ips": [{"address": "192.168.1.5/24"}]}""", conf["prevResult"]);
        // The caller's object is copied, not moved into the plugin config.
        Assert.Null(previous.Parent);
    }

    [Fact]
    public void Unknown_keys_are_passed_through()
    {
        AssertJson("""{"net.ipv4.conf.eth0.arp_notify": "1"}""", Build(1)["sysctl"]);
    }
}
