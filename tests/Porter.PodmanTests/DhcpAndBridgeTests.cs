using Porter.Testbed;
using Porter.Testbed.Podman;
using Xunit;
using static Porter.PodmanTests.Steps;

namespace Porter.PodmanTests;

/// <summary>DHCP from the LAN's dnsmasq, and a host bridge with NAT and a published port, under real podman.</summary>
[Collection(PodmanWorldCollection.Name)]
public sealed class DhcpAndBridgeTests(PodmanWorld world) : IDisposable
{
    public void Dispose() => world.Reset();

    [Fact]
    public void A_dhcp_container_gets_its_lease_and_dns_keeps_it_over_a_restart_and_releases_it_on_rm()
    {
        var network = Network(world.Alice, PodmanWorld.MacvlanDhcp);
        var container = RunDetached(world.Alice, "--network", network);
        var address = Attached(world.Alice, container, network)["IPAddress"]!.GetValue<string>();
        Assert.Matches(@"^192\.168\.77\.1(5[0-9]|[67][0-9]|80)$", address);
        Assert.Equal([$"{address}/24"], Ipv4(world.Alice, container, "eth0"));
        var resolv = world.Alice.Check("exec", container, "cat", "/etc/resolv.conf");
        Assert.Contains($"nameserver {DnsmasqServer.DnsServer}", resolv);
        Assert.Contains($"search {DnsmasqServer.Domain}", resolv);
        Assert.DoesNotContain("169.254.1.1", resolv);
        AssertLanReaches(world, address);

        world.Alice.Check("restart", container);
        Assert.Equal(address, Attached(world.Alice, container, network)["IPAddress"]!.GetValue<string>());
        Assert.Equal([$"{address}/24"], Ipv4(world.Alice, container, "eth0"));

        world.Alice.Check("rm", "-f", container);
        Wait.Until(() => world.Dhcp.Lines().Any(l => l.Contains("DHCPRELEASE", StringComparison.Ordinal) && l.Contains(address, StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "the lease to be released at dnsmasq", () => world.Dhcp.Log);
        Assert.Empty(world.Records());
    }

    [Fact]
    public void A_bridge_container_reaches_the_lan_through_nat_and_its_published_port_is_reached_from_the_lan()
    {
        var network = Network(world.Alice, PodmanWorld.BridgeNat);
        var name = NewName("web");
        world.Alice.Check("run", "-d", "--init", "--name", name, "--network", network, "--cap-add", "NET_RAW", "-p", "8080:80",
            PodmanHost.Image, "httpd", "-f", "-p", "80", "-h", "/var/www");
        var address = Attached(world.Alice, name, network)["IPAddress"]!.GetValue<string>();
        Assert.StartsWith("10.89.0.", address);
        AssertContainerReaches(world.Alice, name, ScratchLan.Gateway);

        var fetched = world.Lan.InLan("python3", "-c",
            $"import urllib.request; print(urllib.request.urlopen('http://{PodmanWorld.HostAddress}:8080/', timeout=5).read().decode(), end='')");
        Assert.True(fetched.ExitCode == 0, fetched.ToString());
        Assert.Equal("hello from a net-porter container\n", fetched.Stdout);

        world.Alice.Check("rm", "-f", name);
        Assert.Empty(world.Records());
        Assert.NotEqual(0, world.Lan.InHost("ip", "link", "show", PodmanWorld.BridgeName).ExitCode);
    }

    [Fact]
    public void A_host_port_below_1024_is_refused_by_podman_itself_before_net_porter_is_asked()
    {
        var network = Network(world.Alice, PodmanWorld.BridgeNat);
        var refused = world.Alice.Run("run", "--rm", "--network", network, "-p", "80:80", PodmanHost.Image, "true");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("rootlessport cannot expose privileged port 80", refused.Stderr);
        Assert.Empty(world.Records());
        Assert.Empty(world.AllocatedIps(PodmanWorld.BridgeNat));
    }
}
