using System.Text.Json.Nodes;
using Porter.Testbed;
using Xunit;

namespace Porter.PodmanTests;

/// <summary>`podman network create -d net-porter`: what podman itself prints and keeps, for good and for refused networks.</summary>
[Collection(PodmanWorldCollection.Name)]
public sealed class NetworkCreateTests(PodmanWorld world) : IDisposable
{
    public void Dispose() => world.Reset();

    private static string Name(string what) => $"{what}-{Shell.RandomId(4)}";

    [Fact]
    public void A_granted_resource_makes_a_network_that_inspect_shows_with_its_options()
    {
        var name = Name("lan");
        var created = world.Alice.Run("network", "create", "-d", "net-porter", "-o", $"resource={PodmanWorld.MacvlanHostLocal}", name);
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal(name, created.Stdout.Trim());
        Assert.Contains($"net-porter: network '{name}' uses resource '{PodmanWorld.MacvlanHostLocal}' (macvlan, CNI 1.0.0)", created.Stderr);
        // The resource has DNS servers of its own: no warning.
        Assert.DoesNotContain("warning", created.Stderr);

        var network = world.Alice.InspectNetwork(name);
        Assert.Equal("net-porter", network["driver"]!.GetValue<string>());
        Assert.Equal(PodmanWorld.MacvlanHostLocal, network["options"]!["resource"]!.GetValue<string>());
        Assert.False(network["dns_enabled"]!.GetValue<bool>());
        world.Alice.Check("network", "rm", name);
    }

    [Fact]
    public void A_resource_without_dns_is_created_with_a_warning_that_says_what_to_do()
    {
        var name = Name("l2");
        var created = world.Alice.Run("network", "create", "-d", "net-porter", "-o", $"resource={PodmanWorld.MacvlanL2}", name);
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains($"net-porter: warning: resource '{PodmanWorld.MacvlanL2}' gives containers no DNS server, so name resolution will not work in them", created.Stderr);
        world.Alice.Check("network", "rm", name);
    }

    [Fact]
    public void An_unknown_resource_is_refused_with_the_servers_message_and_no_network_is_left()
    {
        var name = Name("unknown");
        var created = world.Alice.Run("network", "create", "-d", "net-porter", "-o", "resource=no-such-thing", name);
        Assert.NotEqual(0, created.ExitCode);
        Assert.Equal("Error: plugin /usr/libexec/netavark/net-porter failed: netavark: NOT_FOUND: resource 'no-such-thing' is not configured on this server",
            LastLine(created));
        Assert.NotEqual(0, world.Alice.Run("network", "exists", name).ExitCode);
    }

    [Fact]
    public void A_network_without_a_resource_option_is_refused_with_how_to_create_it()
    {
        var name = Name("missing");
        var created = world.Alice.Run("network", "create", "-d", "net-porter", name);
        Assert.NotEqual(0, created.ExitCode);
        Assert.Equal($"Error: plugin /usr/libexec/netavark/net-porter failed: netavark: network '{name}' has no 'resource' option: " +
            $"create it with 'podman network create -d net-porter -o resource=<name> {name}'", LastLine(created));
        Assert.NotEqual(0, world.Alice.Run("network", "exists", name).ExitCode);
    }

    private static string LastLine(ShellResult result) => result.Stderr.Trim().Split('\n')[^1];

    [Fact]
    public void A_user_without_a_grant_is_refused_and_no_network_is_left()
    {
        var name = Name("theirs");
        var created = world.Mallory.Run("network", "create", "-d", "net-porter", "-o", $"resource={PodmanWorld.MacvlanHostLocal}", name);
        Assert.NotEqual(0, created.ExitCode);
        Assert.StartsWith($"Error: plugin /usr/libexec/netavark/net-porter failed: netavark: PERMISSION_DENIED: {world.MalloryUser.Name} (uid {world.MalloryUser.Uid}) may not use resource '{PodmanWorld.MacvlanHostLocal}'",
            LastLine(created));
        Assert.NotEqual(0, world.Mallory.Run("network", "exists", name).ExitCode);
    }

    [Fact]
    public void A_dhcp_resource_with_a_subnet_is_refused_because_podman_would_assign_addresses_too()
    {
        var name = Name("dhcp");
        var created = world.Alice.Run("network", "create", "-d", "net-porter", "-o", $"resource={PodmanWorld.MacvlanDhcp}", "--subnet", "192.168.77.0/24", name);
        Assert.NotEqual(0, created.ExitCode);
        Assert.Contains($"FAILED_PRECONDITION: resource '{PodmanWorld.MacvlanDhcp}' assigns addresses with dhcp IPAM, but this network has subnets", created.Stderr);
        Assert.NotEqual(0, world.Alice.Run("network", "exists", name).ExitCode);
    }
}
