using System.Text.Json.Nodes;
using Porter.Testbed;
using Porter.Testbed.Podman;
using Xunit;

namespace Porter.PodmanTests;

/// <summary>Small steps the cases share: a network per test, a running container, and what podman and the kernel say about it.</summary>
public static class Steps
{
    public static string NewName(string what) => $"{what}-{Shell.RandomId(4)}";

    /// <summary>A net-porter network for a resource (extra podman arguments before the name); removed by the caller.</summary>
    public static string Network(PodmanUser podman, string resource, params string[] extra)
    {
        var name = NewName("net");
        podman.Check(["network", "create", "-d", "net-porter", "-o", $"resource={resource}", .. extra, name]);
        return name;
    }

    /// <summary>
    /// A detached container that keeps running (busybox sleep), with extra podman run arguments. --init (catatonit)
    /// passes SIGTERM on, so stop and rm take a moment rather than podman's 10 s stop timeout.
    /// </summary>
    public static string RunDetached(PodmanUser podman, params string[] args)
    {
        var name = NewName("c");
        podman.Check(["run", "-d", "--init", "--name", name, .. args, PodmanHost.Image, "sleep", "3600"]);
        return name;
    }

    /// <summary>podman inspect's view of one network of a container: NetworkSettings.Networks[NET].</summary>
    public static JsonObject Attached(PodmanUser podman, string container, string network) =>
        podman.Inspect(container)["NetworkSettings"]!["Networks"]![network]!.AsObject();

    /// <summary>The IPv4 addresses (with prefix) inside the container on an interface.</summary>
    public static IReadOnlyList<string> Ipv4(PodmanUser podman, string container, string ifName)
    {
        var shown = podman.Check("exec", container, "ip", "-4", "-o", "addr", "show", "dev", ifName);
        return shown.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]).ToList();
    }

    /// <summary>The LAN namespace reaches the address, IPv4 or IPv6 (ping, as root in the LAN).</summary>
    public static void AssertLanReaches(PodmanWorld world, string address)
    {
        var ping = world.Lan.InLan("ping", address.Contains(':') ? "-6" : "-4", "-c", "1", "-W", "3", address);
        Assert.True(ping.ExitCode == 0, $"the LAN cannot reach {address}: {ping}");
    }

    /// <summary>A `podman run` that net-porter refused, as podman reports a plugin's setup failure.</summary>
    public static void AssertRunRefused(ShellResult run, string status, string mentioning)
    {
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains($"Error: netavark: plugin \"net-porter\" failed: exit code 1, message: {status}:", run.Stderr);
        Assert.Contains(mentioning, run.Stderr);
    }

    /// <summary>The container reaches an address on the LAN (busybox ping needs CAP_NET_RAW, which the container was given).</summary>
    public static void AssertContainerReaches(PodmanUser podman, string container, string address)
    {
        var ping = podman.Run("exec", container, "ping", "-c", "1", "-W", "3", address);
        Assert.True(ping.ExitCode == 0, $"{container} cannot reach {address}: {ping}");
    }
}
