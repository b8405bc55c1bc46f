using Porter.Server.Cni.Config;
using Porter.Server.Configuration;
using Xunit;

namespace Porter.Tests.Examples;

/// <summary>The configuration examples shipped in the repository must load exactly as an administrator would copy them.</summary>
public sealed class ShippedExamplesTests
{
    private static readonly string Root = FindRoot();

    [Fact]
    public void Config_example_parses_and_every_resource_has_a_network_in_the_example_cni_dir()
    {
        var config = ConfigLoader.Load(Path.Combine(Root, "config.json.example"));
        var networks = NetworkConfigLoader.LoadDirectory(Path.Combine(Root, "cni.d"), new CniLoadOptions("/var/lib/net-porter/host-local"));

        Assert.Equal(Path.Combine(Root, "cni.d"), config.CniDir);
        Assert.NotEmpty(config.Resources);
        Assert.All(config.Resources, r => Assert.True(networks.ContainsKey(r.Name), $"no example network for resource {r.Name}"));
        Assert.All(config.Resources, r => Assert.False(r.AllowUsers.IsEmpty && r.AllowGroups.IsEmpty, $"{r.Name} grants nobody"));
        // And every example network is shown in use.
        Assert.Equal(networks.Keys.Order(StringComparer.Ordinal), config.Resources.Select(r => r.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_example_network_names_installed_plugin_types_only()
    {
        var networks = NetworkConfigLoader.LoadDirectory(Path.Combine(Root, "cni.d"), new CniLoadOptions("/var/lib/net-porter/host-local"));
        string[] debianPlugins = ["bandwidth", "bridge", "dhcp", "firewall", "host-device", "host-local", "ipvlan", "loopback", "macvlan", "portmap", "ptp", "sbr", "static", "tuning", "vlan", "vrf"];

        Assert.NotEmpty(networks);
        foreach (var network in networks.Values)
        {
            foreach (var plugin in network.Plugins)
            {
                Assert.Contains(plugin.Type, debianPlugins);
                if (plugin.IpamType is not null)
                {
                    Assert.Contains(plugin.IpamType, debianPlugins);
                }
            }
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Porter.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Porter.sln not found");
    }
}
