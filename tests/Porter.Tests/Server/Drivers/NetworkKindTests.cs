using System.Text;
using Porter.Server.Cni.Config;
using Porter.Server.Drivers;
using Xunit;

namespace Porter.Tests.Server.Drivers;

/// <summary>What each kind of network answers; the attach workflow asks these instead of looking at plugin types itself.</summary>
public sealed class NetworkKindTests
{
    private static NetworkKind Kind(string mainPlugin) => NetworkKind.Of(NetworkConfigLoader.ParseList(
        Encoding.UTF8.GetBytes($$"""{"cniVersion": "1.0.0", "name": "n", "plugins": [{{mainPlugin}}]}"""), "n.conflist", expectedName: null, options: null));

    [Fact]
    public void Macvlan_has_its_own_mac_and_nothing_on_the_host()
    {
        var kind = Kind("""{"type": "macvlan", "master": "eth0", "ipam": {"type": "host-local", "subnet": "10.0.0.0/24"}}""");
        Assert.IsType<MacvlanDriver>(kind.Interface);
        Assert.True(kind.Interface.HasOwnMac);
        Assert.Null(kind.Interface.HostBridge);
    }

    [Fact]
    public void Ipvlan_shares_the_parents_mac()
    {
        var kind = Kind("""{"type": "ipvlan", "master": "eth0"}""");
        Assert.Equal("ipvlan", kind.Interface.Kind);
        Assert.False(kind.Interface.HasOwnMac);
    }

    [Theory]
    [InlineData("""{"type": "bridge"}""", "cni0")]
    [InlineData("""{"type": "bridge", "bridge": "np-br0", "ipMasq": true}""", "np-br0")]
    public void A_bridge_names_its_host_bridge(string plugin, string bridge)
    {
        var kind = Kind(plugin);
        Assert.Equal(bridge, kind.Interface.HostBridge);
        Assert.True(kind.Interface.HasOwnMac);
    }

    [Fact]
    public void Another_plugin_runs_as_configured()
    {
        var kind = Kind("""{"type": "ptp", "ipam": {"type": "whereabouts"}}""");
        Assert.Equal("ptp", kind.Interface.Kind);
        Assert.Null(kind.Interface.HostBridge);
        Assert.Equal("whereabouts", kind.Ipam.Type);
        Assert.Null(kind.Ipam.WhyNoStaticIps("n"));
        Assert.False(kind.Ipam.TakesPodmanAddresses);
    }

    [Fact]
    public void Dhcp_keeps_its_lease_from_inside_refuses_static_ips_and_explains_a_silent_lan()
    {
        var kind = Kind("""{"type": "macvlan", "master": "eth0", "ipam": {"type": "dhcp"}}""");
        Assert.True(kind.Ipam.KeepsLease);
        Assert.True(kind.Ipam.DnsFromLan);
        Assert.False(kind.Ipam.TakesPodmanAddresses);
        Assert.Equal("resource 'n' gets its addresses by DHCP; static IPs cannot be assigned on it", kind.Ipam.WhyNoStaticIps("n"));
        Assert.Equal("no DHCP server answered on the network of resource 'n'", kind.Ipam.Explain("error dialing DHCP daemon: no more tries", "n"));
        Assert.Equal("", kind.Ipam.Explain("link not found", "n"));
    }

    [Theory]
    [InlineData("""{"type": "macvlan", "master": "eth0", "ipam": {"type": "host-local", "subnet": "10.0.0.0/24"}}""", "host-local", false, true)]
    [InlineData("""{"type": "macvlan", "master": "eth0", "ipam": {"type": "static"}}""", "static", true, true)]
    public void Host_local_and_static_take_requested_and_podman_addresses(string plugin, string type, bool needsPrefix, bool takesPodman)
    {
        var kind = Kind(plugin);
        Assert.Equal(type, kind.Ipam.Type);
        Assert.Null(kind.Ipam.WhyNoStaticIps("n"));
        Assert.Equal(needsPrefix, kind.Ipam.StaticIpsNeedPrefix);
        Assert.Equal(takesPodman, kind.Ipam.TakesPodmanAddresses);
        Assert.False(kind.Ipam.KeepsLease);
    }

    [Fact]
    public void Without_ipam_no_addresses_can_be_asked_for()
    {
        var kind = Kind("""{"type": "macvlan", "master": "eth0"}""");
        Assert.Null(kind.Ipam.Type);
        Assert.Equal("resource 'n' has no IPAM, so static IPs cannot be assigned on it", kind.Ipam.WhyNoStaticIps("n"));
        Assert.False(kind.Ipam.TakesPodmanAddresses);
    }
}
