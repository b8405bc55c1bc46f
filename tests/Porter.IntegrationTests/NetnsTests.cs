using System.Text.Json.Nodes;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>
/// `net-porter netns up/down NAME`, run exactly as net-porter-netns@.service runs them (ExecStart/ExecStop as root,
/// the socket found without --socket), against the real server: /run/netns/NAME as iproute2 makes it, attachments
/// that survive a server restart and garbage collection, resolv.conf, reuse, foreign namespaces, undo on failure.
/// (No systemd runs here: the unit's command lines run as processes.)
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class NetnsTests(LanWorld world)
{
    private Workspace Workspace => world.Workspace;

    [Fact]
    public void Up_and_down_as_the_unit_runs_them_survive_a_server_restart_and_garbage_collection()
    {
        using var named = new NamedNetnsCleanup(Workspace);
        // The unit's ExecStart reads /etc/net-porter/netns/NAME.json: this test writes that very file.
        named.WriteDefaultFile($$"""
            {
              "attachments": [
                { "resource": "{{LanWorld.MacvlanDhcp}}" },
                { "resource": "{{LanWorld.MacvlanHostLocal}}", "ifname": "eth1" }
              ]
            }
            """);

        var up = PorterCli.AsRootFindingSocket(Workspace, "netns", "up", named.Name);

        Assert.True(up.ExitCode == 0, $"{up}\n{world.Server.Log}");
        Assert.Equal("", up.Stderr);
        var lines = up.Stdout.Split('\n');
        Assert.Equal($"netns {named.Name}: /run/netns/{named.Name} (made)", lines[0]);
        Assert.Contains($"  resource {LanWorld.MacvlanDhcp}:", lines);
        Assert.Contains($"  resolv.conf: /etc/netns/{named.Name}/resolv.conf", lines);
        var eth0 = Link(named.Name, "eth0");
        var eth1 = Link(named.Name, "eth1");
        var dhcpAddress = Assert.Single(Observe.Ipv4Addresses(eth0!));
        var hostLocalAddress = Assert.Single(Observe.Ipv4Addresses(eth1!));
        Assert.Contains($"    eth0: mac {eth0!["address"]!.GetValue<string>()}", lines);
        Assert.Contains($"      {dhcpAddress} gateway {ScratchLan.Gateway}", lines);
        Assert.Contains($"    dns: {DnsmasqServer.DnsServer} (search {DnsmasqServer.Domain})", lines);
        Assert.Contains($"      {hostLocalAddress} gateway {ScratchLan.Gateway}", lines);
        // Loopback is up, as a service expects (`ip netns add` leaves it down).
        Assert.Contains("UP", Shell.Check("ip", "-n", named.Name, "-j", "link", "show", "lo"), StringComparison.Ordinal);
        // A service in the namespace (systemd's NetworkNamespacePath= is a setns into this file) reaches the LAN.
        var ping = Shell.Run("nsenter", $"--net=/run/netns/{named.Name}", "--", "ping", "-c", "1", "-W", "3", ScratchLan.Gateway);
        Assert.True(ping.ExitCode == 0, ping.ToString());
        // resolv.conf from the DHCP LAN's DNS, which `ip netns exec` puts in place of /etc/resolv.conf.
        var resolv = File.ReadAllText($"/etc/netns/{named.Name}/resolv.conf");
        Assert.Contains($"nameserver {DnsmasqServer.DnsServer}\n", resolv);
        Assert.Contains($"search {DnsmasqServer.Domain}\n", resolv);
        Assert.Equal(resolv, Shell.Check("ip", "netns", "exec", named.Name, "cat", "/etc/resolv.conf"));
        var inode = Inode(named.Name);
        var records = world.CachedAttachments().Where(f => f.Contains($"-0-ns-{inode}-", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal([$"{LanWorld.MacvlanDhcp}-0-ns-{inode}-eth0", $"{LanWorld.MacvlanHostLocal}-0-ns-{inode}-eth1"], records);
        var status = JsonNode.Parse(PorterCli.AsRoot(Workspace, "status", "--json").Stdout)!["attachments"]!.AsArray();
        Assert.Equal(2, status.Count(a => a!["kind"]!.GetValue<string>() == "netns" && a["netns_name"]!.GetValue<string>() == named.Name));

        // No process is in the namespace; it is alive through /run/netns/NAME: collection keeps it, well past the grace period.
        world.CrashAndRestartServer();
        Thread.Sleep(TimeSpan.FromSeconds(14));
        Assert.Equal(records, world.CachedAttachments().Where(f => f.Contains($"-0-ns-{inode}-", StringComparison.Ordinal)).Order().ToList());
        Assert.Equal([dhcpAddress], Observe.Ipv4Addresses(Link(named.Name, "eth0")!));
        Assert.DoesNotContain($"released attachment {records[0]}", world.Server.Log, StringComparison.Ordinal);

        var down = PorterCli.AsRootFindingSocket(Workspace, "netns", "down", named.Name);

        Assert.True(down.ExitCode == 0, $"{down}\n{world.Server.Log}");
        Assert.Equal($"netns {named.Name}: detached; /run/netns/{named.Name} removed\n", down.Stdout);
        Assert.False(File.Exists($"/run/netns/{named.Name}"));
        Assert.False(File.Exists($"/run/net-porter/netns/{named.Name}"));
        Assert.False(Directory.Exists($"/etc/netns/{named.Name}"));
        Assert.DoesNotContain(world.CachedAttachments(), f => f.Contains($"-0-ns-{inode}-", StringComparison.Ordinal));
        Assert.DoesNotContain(hostLocalAddress.Split('/')[0], world.AllocatedIps(LanWorld.MacvlanHostLocal));

        // Down again: nothing to do is no error.
        var again = PorterCli.AsRootFindingSocket(Workspace, "netns", "down", named.Name);
        Assert.Equal(0, again.ExitCode);
        Assert.Equal($"netns {named.Name}: detached; /run/netns/{named.Name} does not exist\n", again.Stdout);
    }

    [Fact]
    public void Up_again_reuses_the_namespace_it_made_and_leaves_exactly_what_the_file_lists()
    {
        using var named = new NamedNetnsCleanup(Workspace);
        var file = named.WriteFile($$"""{ "attachments": [{ "resource": "{{LanWorld.MacvlanHostLocal}}" }] }""");
        var first = PorterCli.AsRoot(Workspace, "netns", "up", named.Name, "--file", file);
        Assert.True(first.ExitCode == 0, $"{first}\n{world.Server.Log}");
        var inode = Inode(named.Name);
        var firstAddress = Assert.Single(Observe.Ipv4Addresses(Link(named.Name, "eth0")!)).Split('/')[0];

        // As after a crash of whatever ran the first up: up again.
        var second = PorterCli.AsRoot(Workspace, "netns", "up", named.Name, "--file", file);

        Assert.True(second.ExitCode == 0, $"{second}\n{world.Server.Log}");
        Assert.StartsWith($"netns {named.Name}: /run/netns/{named.Name} (made earlier, used again)\n", second.Stdout);
        Assert.Equal(inode, Inode(named.Name));
        Assert.Single(world.CachedAttachments(), f => f.Contains($"-0-ns-{inode}-", StringComparison.Ordinal));
        var secondAddress = Assert.Single(Observe.Ipv4Addresses(Link(named.Name, "eth0")!)).Split('/')[0];
        Assert.Equal(1, world.AllocatedIps(LanWorld.MacvlanHostLocal).Count(ip => ip == firstAddress || ip == secondAddress));
        // No DNS on this resource: no resolv.conf, and a warning that says so.
        Assert.Equal($"net-porter: warning: no attachment of netns {named.Name} reported a DNS server, so /etc/netns/{named.Name}/resolv.conf was not written\n", second.Stderr);
        Assert.False(File.Exists($"/etc/netns/{named.Name}/resolv.conf"));

        // Someone removed it behind net-porter's back: the marker is stale, and up makes a new one.
        Shell.Check("ip", "netns", "del", named.Name);
        var third = PorterCli.AsRoot(Workspace, "netns", "up", named.Name, "--file", file);
        Assert.True(third.ExitCode == 0, $"{third}\n{world.Server.Log}");
        Assert.StartsWith($"netns {named.Name}: /run/netns/{named.Name} (made)\n", third.Stdout);
        Assert.NotEqual(inode, Inode(named.Name));
        // The attachments of the namespace that went are released by name (in the server's hold) at that up.
        Assert.DoesNotContain(world.CachedAttachments(), f => f.Contains($"-0-ns-{inode}-", StringComparison.Ordinal));
        Assert.Equal(0, PorterCli.AsRoot(Workspace, "netns", "down", named.Name).ExitCode);
    }

    [Fact]
    public void A_foreign_namespace_is_refused_unless_the_file_adopts_it_and_down_then_leaves_it()
    {
        using var named = new NamedNetnsCleanup(Workspace);
        Shell.Check("ip", "netns", "add", named.Name);
        var inode = Inode(named.Name);
        var plain = named.WriteFile($$"""{ "attachments": [{ "resource": "{{LanWorld.MacvlanHostLocal}}" }] }""");

        var refused = PorterCli.AsRoot(Workspace, "netns", "up", named.Name, "--file", plain);

        Assert.Equal(1, refused.ExitCode);
        Assert.Equal($"net-porter: /run/netns/{named.Name} already exists and net-porter did not make it; refusing to use a foreign namespace: " +
            $"set \"adopt\": true in {plain} to attach into it anyway (netns down then only detaches, and leaves it in place), or choose another name\n", refused.Stderr);
        Assert.Null(Link(named.Name, "eth0"));
        Assert.False(File.Exists($"/run/net-porter/netns/{named.Name}"));

        var adopting = named.WriteFile($$"""{ "attachments": [{ "resource": "{{LanWorld.MacvlanHostLocal}}" }], "adopt": true }""");
        var adopted = PorterCli.AsRoot(Workspace, "netns", "up", named.Name, "--file", adopting);
        Assert.True(adopted.ExitCode == 0, $"{adopted}\n{world.Server.Log}");
        Assert.StartsWith($"netns {named.Name}: /run/netns/{named.Name} (adopted)\n", adopted.Stdout);
        Assert.NotNull(Link(named.Name, "eth0"));

        var down = PorterCli.AsRoot(Workspace, "netns", "down", named.Name);
        Assert.True(down.ExitCode == 0, down.ToString());
        Assert.Equal($"netns {named.Name}: detached; /run/netns/{named.Name} left in place (adopted, not made by net-porter)\n", down.Stdout);
        Assert.Equal(inode, Inode(named.Name));
        Assert.Null(Link(named.Name, "eth0"));
        Assert.DoesNotContain(world.CachedAttachments(), f => f.Contains($"-0-ns-{inode}-", StringComparison.Ordinal));
    }

    [Fact]
    public void A_failing_attachment_undoes_the_whole_up()
    {
        using var named = new NamedNetnsCleanup(Workspace);
        // The first attachment works; the second is a resource root is not granted.
        var file = named.WriteFile($$"""
            { "attachments": [{ "resource": "{{LanWorld.MacvlanHostLocal}}" }, { "resource": "{{LanWorld.MacvlanStatic}}", "ifname": "eth1" }] }
            """);
        var allocated = world.AllocatedIps(LanWorld.MacvlanHostLocal);
        var before = world.CachedAttachments();

        var up = PorterCli.AsRoot(Workspace, "netns", "up", named.Name, "--file", file);

        Assert.Equal(1, up.ExitCode);
        Assert.Equal("", up.Stdout);
        Assert.Equal($"net-porter: netns up {named.Name} failed after 1 of 2 attachments; undoing it\n" +
            $"net-porter: attaching resource '{LanWorld.MacvlanStatic}' (eth1) failed: PERMISSION_DENIED: root (uid 0) may not use resource '{LanWorld.MacvlanStatic}': neither the user nor any of their groups is granted it\n",
            up.Stderr);
        Assert.False(File.Exists($"/run/netns/{named.Name}"));
        Assert.False(File.Exists($"/run/net-porter/netns/{named.Name}"));
        Assert.False(Directory.Exists($"/etc/netns/{named.Name}"));
        Assert.Equal(before, world.CachedAttachments());
        Assert.Equal(allocated, world.AllocatedIps(LanWorld.MacvlanHostLocal));
    }

    [Fact]
    public async Task Concurrent_ups_of_different_names_do_not_race()
    {
        var names = Enumerable.Range(0, 4).Select(_ => new NamedNetnsCleanup(Workspace)).ToList();
        try
        {
            var files = names.Select(n => n.WriteFile($$"""{ "attachments": [{ "resource": "{{LanWorld.MacvlanHostLocal}}" }] }""")).ToList();

            var results = await Task.WhenAll(names.Select((n, i) => Task.Run(() => PorterCli.AsRoot(Workspace, "netns", "up", n.Name, "--file", files[i]))));

            foreach (var (named, result) in names.Zip(results))
            {
                Assert.True(result.ExitCode == 0, $"{named.Name}: {result}\n{world.Server.Log}");
                Assert.NotNull(Link(named.Name, "eth0"));
            }
            Assert.Equal(4, names.Select(n => Inode(n.Name)).Distinct().Count());
            var downs = await Task.WhenAll(names.Select(n => Task.Run(() => PorterCli.AsRoot(Workspace, "netns", "down", n.Name))));
            Assert.All(downs, d => Assert.Equal(0, d.ExitCode));
            Assert.All(names, n => Assert.False(File.Exists($"/run/netns/{n.Name}")));
        }
        finally
        {
            names.ForEach(n => n.Dispose());
        }
    }

    [Fact]
    public void Bad_files_names_and_callers_are_refused_before_anything_is_made()
    {
        using var named = new NamedNetnsCleanup(Workspace);
        var broken = named.WriteFile("{\n  \"attachments\": [\n    { \"resource\": 42 }\n  ]\n}");

        var malformed = PorterCli.AsRoot(Workspace, "netns", "up", named.Name, "--file", broken);
        Assert.Equal(1, malformed.ExitCode);
        Assert.Equal($"net-porter: {broken}:3:21: expected a string at $.attachments[0].resource\n", malformed.Stderr);

        var missing = PorterCli.AsRoot(Workspace, "netns", "up", named.Name, "--file", "/nonexistent/x.json");
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("net-porter: /nonexistent/x.json does not exist", missing.Stderr);

        var badName = PorterCli.AsRoot(Workspace, "netns", "up", "../etc", "--file", broken);
        Assert.Equal(1, badName.ExitCode);
        Assert.Equal("net-porter: netns name '../etc' may only contain letters, digits, '_', '.' and '-', starting with a letter or digit\n", badName.Stderr);

        var notRoot = PorterCli.AsUser(Workspace, world.Alice, "netns", "up", named.Name, "--file", broken);
        Assert.Equal(1, notRoot.ExitCode);
        Assert.Equal("net-porter: net-porter netns up must run as root: it makes and removes namespaces under /run/netns\n", notRoot.Stderr);

        Assert.False(File.Exists($"/run/netns/{named.Name}"));
        Assert.False(File.Exists($"/run/net-porter/netns/{named.Name}"));
    }

    private static ulong Inode(string name)
    {
        var target = Shell.Check("stat", "-L", "-c", "%i", $"/run/netns/{name}").Trim();
        return ulong.Parse(target, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static JsonObject? Link(string name, string ifName)
    {
        var result = Shell.Run("ip", "-n", name, "-j", "addr", "show", "dev", ifName);
        if (result.ExitCode != 0)
        {
            Assert.Contains("does not exist", result.Stderr);
            return null;
        }
        return (JsonNode.Parse(result.Stdout) as JsonArray)?.Single() as JsonObject;
    }

    /// <summary>A unique name, its files, and everything `up` may have left, removed whatever the test did.</summary>
    private sealed class NamedNetnsCleanup(Workspace workspace) : IDisposable
    {
        private string? _defaultFile;

        public string Name { get; } = $"npt-{Shell.RandomId(8)}";

        public string WriteFile(string json)
        {
            var path = Path.Combine(workspace.EtcDir, $"netns-{Name}-{Shell.RandomId(4)}.json");
            File.WriteAllText(path, json);
            return path;
        }

        public void WriteDefaultFile(string json)
        {
            Directory.CreateDirectory("/etc/net-porter/netns");
            _defaultFile = $"/etc/net-porter/netns/{Name}.json";
            File.WriteAllText(_defaultFile, json);
        }

        public void Dispose()
        {
            if (File.Exists($"/run/netns/{Name}"))
            {
                PorterCli.AsRoot(workspace, "netns", "down", Name);
                Shell.Try("ip", "netns", "del", Name);
            }
            if (Directory.Exists("/run/net-porter/netns"))
            {
                File.Delete($"/run/net-porter/netns/{Name}");
                File.Delete($"/run/net-porter/netns/{Name}.lock");
            }
            if (Directory.Exists($"/etc/netns/{Name}"))
            {
                Directory.Delete($"/etc/netns/{Name}", recursive: true);
            }
            if (_defaultFile is not null)
            {
                File.Delete(_defaultFile);
                DeleteIfEmpty("/etc/net-porter/netns");
                DeleteIfEmpty("/etc/net-porter");
            }
            DeleteIfEmpty("/etc/netns");
        }

        private static void DeleteIfEmpty(string dir)
        {
            if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any())
            {
                Directory.Delete(dir);
            }
        }
    }
}
