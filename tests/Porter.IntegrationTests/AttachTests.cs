using System.Text.Json.Nodes;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>
/// `net-porter attach/detach` for processes (by PID) and bind-mounted namespaces (by path): genuinely unprivileged
/// users attach their own `unshare -rn` processes through the real CLI and server, and are refused what is not theirs.
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class AttachTests(LanWorld world)
{
    private Workspace Workspace => world.Workspace;

    [Fact]
    public void A_user_attaches_their_own_process_by_pid_and_detaches_it()
    {
        using var process = UnsharedProcess.Start(world.Alice);

        var attach = PorterCli.AsUser(Workspace, world.Alice, "attach", "--resource", LanWorld.MacvlanHostLocal, "--pid", process.PidText);

        Assert.True(attach.ExitCode == 0, $"{attach}\n{world.Server.Log}");
        var link = LinkIn(process, "eth0");
        Assert.NotNull(link);
        var address = Assert.Single(Observe.Ipv4Addresses(link!));
        Assert.StartsWith("192.168.77.1", address);
        // What attach prints: the interface, its MAC and the address with its gateway.
        Assert.Equal($"eth0: mac {link!["address"]!.GetValue<string>()}\n  {address} gateway {ScratchLan.Gateway}\n", attach.Stdout);
        Assert.Equal("", attach.Stderr);
        var ping = process.In("ping", "-c", "1", "-W", "3", ScratchLan.Gateway);
        Assert.True(ping.ExitCode == 0, ping.ToString());
        var ip = address.Split('/')[0];
        Assert.Contains(ip, world.AllocatedIps(LanWorld.MacvlanHostLocal));
        var record = $"{LanWorld.MacvlanHostLocal}-{world.Alice.Uid}-ns-{process.NetnsInode}-eth0";
        Assert.Contains(record, world.CachedAttachments());

        // The same namespace again: refused, nothing changes.
        var again = PorterCli.AsUser(Workspace, world.Alice, "attach", "--resource", LanWorld.MacvlanHostLocal, "--pid", process.PidText);
        Assert.Equal(1, again.ExitCode);
        Assert.Equal($"net-porter: ALREADY_EXISTS: container ns-{process.NetnsInode} (eth0) on resource '{LanWorld.MacvlanHostLocal}' is already attached in this network namespace; tear it down first\n", again.Stderr);

        var detach = PorterCli.AsUser(Workspace, world.Alice, "detach", "--resource", LanWorld.MacvlanHostLocal, "--pid", process.PidText);

        Assert.True(detach.ExitCode == 0, detach.ToString());
        Assert.Equal("", detach.Stderr);
        Assert.Null(LinkIn(process, "eth0"));
        Assert.DoesNotContain(ip, world.AllocatedIps(LanWorld.MacvlanHostLocal));
        Assert.DoesNotContain(record, world.CachedAttachments());

        // Detaching again finds nothing, and says so.
        var twice = PorterCli.AsUser(Workspace, world.Alice, "detach", "--resource", LanWorld.MacvlanHostLocal, "--pid", process.PidText);
        Assert.Equal(0, twice.ExitCode);
        Assert.Equal($"net-porter: warning: nothing of yours is attached in the network namespace of process {process.Pid} on resource '{LanWorld.MacvlanHostLocal}' as eth0\n", twice.Stderr);
    }

    [Fact]
    public void A_user_attaches_a_namespace_by_the_path_they_see_with_static_addresses_and_json()
    {
        // A podman-shaped world: the path exists only in the caller's own mount namespace, and no process is in it.
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns(running: false);

        var noPrefix = caller.Run($"{Workspace.PluginPath} attach -r {LanWorld.MacvlanStatic} --netns {netns} --ip 192.168.77.40");
        Assert.Equal(1, noPrefix.ExitCode);
        Assert.Equal($"net-porter: INVALID_ARGUMENT: static IP 192.168.77.40 has no prefix length; resource '{LanWorld.MacvlanStatic}' uses static IPAM, which needs one: give it as 192.168.77.40/PREFIX\n", noPrefix.Stderr);
        var outside = caller.Run($"{Workspace.PluginPath} attach -r {LanWorld.MacvlanStatic} --netns {netns} --ip 192.168.77.200/24");
        Assert.Equal(1, outside.ExitCode);
        Assert.StartsWith($"net-porter: PERMISSION_DENIED: static IP 192.168.77.200 is outside what {world.Alice.Name} (uid {world.Alice.Uid}) may request on resource '{LanWorld.MacvlanStatic}'", outside.Stderr);
        Assert.Null(Observe.Link(caller, netns, "eth0"));

        var attach = caller.Run($"{Workspace.PluginPath} attach -r {LanWorld.MacvlanStatic} --netns {netns} --ip 192.168.77.40/24 --ifname lan0 --json");

        Assert.True(attach.ExitCode == 0, $"{attach}\n{world.Server.Log}");
        var status = JsonNode.Parse(attach.Stdout)!.AsObject();
        var lan0 = status["interfaces"]!["lan0"]!;
        Assert.Equal("192.168.77.40/24", lan0["subnets"]![0]!["ipnet"]!.GetValue<string>());
        var link = Observe.Link(caller, netns, "lan0");
        Assert.Equal(["192.168.77.40/24"], Observe.Ipv4Addresses(link!));
        Assert.Equal(lan0["mac_address"]!.GetValue<string>(), link!["address"]!.GetValue<string>());

        var detach = caller.Run($"{Workspace.PluginPath} detach -r {LanWorld.MacvlanStatic} --netns {netns} --ifname lan0");
        Assert.True(detach.ExitCode == 0, detach.ToString());
        Assert.Null(Observe.Link(caller, netns, "lan0"));
        Assert.DoesNotContain(world.CachedAttachments(), f => f.StartsWith($"{LanWorld.MacvlanStatic}-{world.Alice.Uid}-ns-", StringComparison.Ordinal));
    }

    [Fact]
    public void Another_users_process_the_hosts_namespace_and_an_ungranted_resource_are_refused()
    {
        using var bobs = UnsharedProcess.Start(world.Bob);
        using var mallorys = UnsharedProcess.Start(world.Mallory);
        var before = world.CachedAttachments();

        var foreign = PorterCli.AsUser(Workspace, world.Alice, "attach", "-r", LanWorld.MacvlanHostLocal, "--pid", bobs.PidText);
        Assert.Equal(1, foreign.ExitCode);
        Assert.Equal("", foreign.Stdout);
        Assert.Equal($"net-porter: PERMISSION_DENIED: the network namespace of process {bobs.Pid} is not yours: its user namespace belongs to uid {world.Bob.Uid}, you are uid {world.Alice.Uid}\n",
            foreign.Stderr);

        // The host's own namespace (the one the server runs in): not even root may attach it, by PID or by path.
        var byPid = PorterCli.AsRoot(Workspace, "attach", "-r", LanWorld.MacvlanHostLocal, "--pid", world.Server.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, byPid.ExitCode);
        Assert.Matches($@"^net-porter: PERMISSION_DENIED: /proc/{world.Server.Pid}/ns/net is the host's own network namespace \(inode \d+, the server's\); attaching it would create, rename or move the host's own interfaces, so it is refused for everyone\n$",
            byPid.Stderr);
        var byPath = PorterCli.AsRoot(Workspace, "attach", "-r", LanWorld.MacvlanHostLocal, "--netns", world.HostNetnsBind);
        Assert.Equal(1, byPath.ExitCode);
        Assert.StartsWith($"net-porter: PERMISSION_DENIED: {world.HostNetnsBind} is the host's own network namespace", byPath.Stderr);

        // Mallory may connect to the main socket, but no resource is granted to her; her own process does not change that.
        var ungranted = PorterCli.AsUser(Workspace, world.Mallory, "attach", "-r", LanWorld.MacvlanHostLocal, "--pid", mallorys.PidText, "--socket", Workspace.SocketPath);
        Assert.Equal(1, ungranted.ExitCode);
        Assert.Equal($"net-porter: PERMISSION_DENIED: {world.Mallory.Name} (uid {world.Mallory.Uid}) may not use resource '{LanWorld.MacvlanHostLocal}': neither the user nor any of their groups is granted it\n",
            ungranted.Stderr);

        // A process that does not exist.
        var gone = PorterCli.AsUser(Workspace, world.Alice, "attach", "-r", LanWorld.MacvlanHostLocal, "--pid", "4194303");
        Assert.Equal(1, gone.ExitCode);
        Assert.Equal("net-porter: NOT_FOUND: process 4194303 does not exist\n", gone.Stderr);

        Assert.Equal(before, world.CachedAttachments());
        Assert.Null(LinkIn(bobs, "eth0"));
        Assert.Null(LinkIn(mallorys, "eth0"));
        Assert.Empty(world.Lan.InHost("ip", "-o", "link", "show", "type", "macvlan").Stdout);
    }

    [Fact]
    public void The_command_line_is_checked_before_anything_is_asked()
    {
        var neither = PorterCli.AsUser(Workspace, world.Alice, "attach", "-r", LanWorld.MacvlanHostLocal);
        Assert.Equal(2, neither.ExitCode);
        Assert.Equal("net-porter attach: give the target: --pid PID or --netns PATH (see net-porter attach --help)\n", neither.Stderr);
        var both = PorterCli.AsUser(Workspace, world.Alice, "attach", "-r", LanWorld.MacvlanHostLocal, "--pid", "1", "--netns", "/x");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("give --pid or --netns, not both", both.Stderr);
        var noResource = PorterCli.AsUser(Workspace, world.Alice, "detach", "--pid", "1");
        Assert.Equal(2, noResource.ExitCode);
        Assert.Equal("net-porter detach: option --resource is required (see net-porter detach --help)\n", noResource.Stderr);
        var badPid = PorterCli.AsUser(Workspace, world.Alice, "attach", "-r", LanWorld.MacvlanHostLocal, "--pid", "12x");
        Assert.Equal(1, badPid.ExitCode);
        Assert.Equal("net-porter: --pid: '12x' is not a process id\n", badPid.Stderr);

        foreach (var verb in new[] { "attach", "detach", "status", "netns up", "netns down" })
        {
            var help = PorterCli.AsUser(Workspace, world.Alice, [.. verb.Split(' '), "--help"]);
            Assert.True(help.ExitCode == 0, help.ToString());
            Assert.Contains("--socket PATH", help.Stdout);
            Assert.StartsWith($"Usage: net-porter {verb}", help.Stdout);
        }
        var overview = PorterCli.AsUser(Workspace, world.Alice, "--help");
        Assert.Equal(0, overview.ExitCode);
        Assert.Contains("  netns up NAME", overview.Stdout);
        // The netavark verbs are untouched: "info" still answers netavark's JSON.
        var info = PorterCli.AsUser(Workspace, world.Alice, "info");
        Assert.Equal("1.0.0", JsonNode.Parse(info.Stdout)!["api_version"]!.GetValue<string>());
    }

    [Fact]
    public void A_process_attachment_is_collected_when_the_process_dies()
    {
        using var process = UnsharedProcess.Start(world.Alice);
        var attach = PorterCli.AsUser(Workspace, world.Alice, "attach", "-r", LanWorld.MacvlanHostLocal, "--pid", process.PidText);
        Assert.True(attach.ExitCode == 0, $"{attach}\n{world.Server.Log}");
        var record = $"{LanWorld.MacvlanHostLocal}-{world.Alice.Uid}-ns-{process.NetnsInode}-eth0";
        var ip = attach.Stdout.Split('\n')[1].Trim().Split('/')[0];
        Assert.Contains(ip, world.AllocatedIps(LanWorld.MacvlanHostLocal));
        var pid = process.Pid;

        process.Kill();

        Wait.Until(() => world.Server.Log.Contains($"released attachment {record} of {world.Alice.Name}: no process is left in its network namespace (process {pid} is gone)", StringComparison.Ordinal),
            TimeSpan.FromSeconds(40), "collection of the dead process's attachment", () => world.Server.Log);
        Assert.DoesNotContain(record, world.CachedAttachments());
        Assert.DoesNotContain(ip, world.AllocatedIps(LanWorld.MacvlanHostLocal));
    }

    [Fact]
    public void A_namespace_attached_by_path_lives_while_it_is_mounted_without_any_process_and_is_collected_when_unmounted()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns(running: false);
        var attach = caller.Run($"{Workspace.PluginPath} attach -r {LanWorld.MacvlanHostLocal} --netns {netns}");
        Assert.True(attach.ExitCode == 0, $"{attach}\n{world.Server.Log}");
        var record = Assert.Single(world.CachedAttachments(), f => f.StartsWith($"{LanWorld.MacvlanHostLocal}-{world.Alice.Uid}-ns-", StringComparison.Ordinal));

        // No process is in it, and the grace period (10 s) passes several times over: the bind mount keeps it alive.
        Thread.Sleep(TimeSpan.FromSeconds(15));
        Assert.Contains(record, world.CachedAttachments());
        Assert.NotNull(Observe.Link(caller, netns, "eth0"));
        Assert.DoesNotContain($"released attachment {record}", world.Server.Log, StringComparison.Ordinal);

        var removed = caller.Run($"umount {netns} && rm {netns}");
        Assert.True(removed.ExitCode == 0, removed.ToString());

        Wait.Until(() => world.Server.Log.Contains($"released attachment {record} of {world.Alice.Name}: its network namespace is gone (no process is in it and it is mounted nowhere)", StringComparison.Ordinal),
            TimeSpan.FromSeconds(40), "collection of the unmounted namespace's attachment", () => world.Server.Log);
        Assert.DoesNotContain(record, world.CachedAttachments());
    }

    private static JsonObject? LinkIn(UnsharedProcess process, string ifName)
    {
        var result = process.In("ip", "-j", "addr", "show", "dev", ifName);
        if (result.ExitCode != 0)
        {
            Assert.Contains("does not exist", result.Stderr);
            return null;
        }
        return (JsonNode.Parse(result.Stdout) as JsonArray)?.Single() as JsonObject;
    }
}
