using Porter.Testbed;
using Porter.Testbed.Podman;
using Xunit;
using static Porter.PodmanTests.Steps;

namespace Porter.PodmanTests;

/// <summary>The server restarts under running containers; and an attachment netavark never tears down is still released.</summary>
[Collection(PodmanWorldCollection.Name)]
public sealed class ServerRestartTests(PodmanWorld world) : IDisposable
{
    public void Dispose() => world.Reset();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Containers_keep_working_across_a_server_restart_and_are_released_afterwards(bool kill)
    {
        const string address = "192.168.77.141";
        var network = Network(world.Alice, PodmanWorld.MacvlanHostLocal);
        var container = RunDetached(world.Alice, "--network", network, "--ip", address);
        Assert.Equal(address, Attached(world.Alice, container, network)["IPAddress"]!.GetValue<string>());

        world.RestartServer(kill);

        AssertLanReaches(world, address);
        Assert.Equal([$"{address}/24"], Ipv4(world.Alice, container, "eth0"));
        world.Alice.Check("stop", container);
        Assert.Empty(world.Records());
        Assert.Empty(world.AllocatedIps(PodmanWorld.MacvlanHostLocal));

        // The freed address can be had again (host-local refuses one that is still allocated).
        var next = RunDetached(world.Alice, "--network", network, "--ip", address);
        Assert.Equal(address, Attached(world.Alice, next, network)["IPAddress"]!.GetValue<string>());
        world.Alice.Check("rm", "-f", next);

        world.Alice.Check("rm", "-f", container);
        Assert.Empty(world.Records());
    }

    [Fact]
    public void An_attachment_netavark_never_tears_down_because_the_netns_file_vanished_is_collected_and_its_address_reused()
    {
        const string address = "192.168.77.140";
        var network = Network(world.Alice, PodmanWorld.MacvlanHostLocal);
        var container = RunDetached(world.Alice, "--network", network, "--ip", address);
        Assert.Equal(address, Attached(world.Alice, container, network)["IPAddress"]!.GetValue<string>());
        var netns = world.Alice.Check("inspect", container, "--format", "{{.NetworkSettings.SandboxKey}}").Trim();
        Assert.StartsWith($"/run/user/{world.AliceUser.Uid}/netns/", netns);
        // The namespace file goes away behind podman's back (a cleanup tool, a mistaken umount, ...).
        var gone = world.Alice.Run("unshare", "sh", "-c", $"umount {netns} && rm {netns}");
        Assert.True(gone.ExitCode == 0, gone.ToString());

        // netavark 1.14 then skips the plugin's teardown; the first rm may fail, the second succeeds.
        if (world.Alice.Run("rm", "-f", "-t", "0", container).ExitCode != 0)
        {
            world.Alice.Check("rm", "-f", "-t", "0", container);
        }
        Assert.Contains(address, world.AllocatedIps(PodmanWorld.MacvlanHostLocal));

        // Garbage collection releases it once no process is left in the namespace...
        // (The log line comes once the release is complete; the record is gone a moment before.)
        Wait.Until(() => world.Server.Log.Contains("no process is left in its network namespace (the container is gone)", StringComparison.Ordinal),
            TimeSpan.FromSeconds(40), "garbage collection of the attachment", () => world.Server.Log);
        Assert.Empty(world.Records());
        Assert.Empty(world.AllocatedIps(PodmanWorld.MacvlanHostLocal));
        // ...and the same address can be had again (host-local refuses an address that is still allocated).
        var next = RunDetached(world.Alice, "--network", network, "--ip", address);
        Assert.Equal(address, Attached(world.Alice, next, network)["IPAddress"]!.GetValue<string>());
    }
}
