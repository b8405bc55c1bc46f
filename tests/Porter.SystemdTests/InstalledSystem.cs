using System.Globalization;
using System.Text.Json.Nodes;
using Porter.Testbed;
using Porter.Testbed.Systemd;
using Xunit;

namespace Porter.SystemdTests;

/// <summary>
/// One booted Debian 13 with the .deb installed as a user installs it (apt-get install ./net-porter_*.deb), a DHCP
/// server on its LAN, users, CNI networks and a configuration; shared by the tests of <see cref="InstalledCollection"/>,
/// which run one at a time and leave it as they found it.
/// </summary>
public sealed class InstalledSystem : IDisposable
{
    /// <summary>Granted every resource by name; lingers from the start.</summary>
    public const string Alice = "alice";
    /// <summary>Granted macvlan-hl through the lan-users group.</summary>
    public const string Dave = "dave";
    /// <summary>Granted nothing.</summary>
    public const string Carol = "carol";

    public const string HostLocal = "macvlan-hl";
    public const string Dhcp = "macvlan-dhcp";
    /// <summary>macvlan with host-local, then a chained plugin that takes two minutes: a setup to kill the server in.</summary>
    public const string Slow = "mv-slow";

    public const string Socket = "/run/net-porter.sock";
    public const string Plugin = "/usr/libexec/netavark/net-porter";
    public const string Config = "/etc/net-porter/config.json";

    private readonly string _work;

    public InstalledSystem()
    {
        _work = Directory.CreateTempSubdirectory("npt-installed-").FullName;
        try
        {
            System = BootedSystem.Boot();
            var install = System.Run(["apt-get", "install", "-y", "--no-install-recommends", $"/packages/{Path.GetFileName(Packages.Deb())}"],
                timeout: TimeSpan.FromMinutes(3));
            InstallLog = install.ToString();
            if (install.ExitCode != 0)
            {
                throw new TestbedException($"apt-get install of the .deb failed: {install}");
            }
            DhcpServer = DnsmasqServer.Start(System.Lan, _work);
            // The system's own address on the LAN, for traffic that it routes (NAT bridges).
            System.Check("ip", "addr", "add", "192.168.77.2/24", "dev", ScratchLan.Uplink);
            System.Check("ip", "route", "add", "default", "via", ScratchLan.Gateway);
            System.CheckSh("groupadd lan-users; useradd -M -U -u 2001 alice; useradd -M -U -u 2003 carol; useradd -M -U -u 2004 -G lan-users dave");
            System.WriteFile("/usr/lib/cni/np-slow", SlowPlugin, "0755");
            System.WriteFile("/etc/net-porter/cni.d/macvlan-hl.conflist", MacvlanHostLocal(HostLocal, "192.168.77.100", "192.168.77.119"));
            System.WriteFile("/etc/net-porter/cni.d/mv-slow.conflist", SlowNetwork);
            System.WriteFile("/etc/net-porter/cni.d/macvlan-dhcp.conflist", DhcpNetwork);
            WriteConfig(StandardResources);
            Reload("configuration reloaded: 3 resources");
            System.Check("loginctl", "enable-linger", Alice);
            WaitForUserSocket(Alice);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public BootedSystem System { get; } = null!;

    public DnsmasqServer DhcpServer { get; } = null!;

    /// <summary>What apt-get said when it installed the package.</summary>
    public string InstallLog { get; } = "";

    public const string StandardResources = """
        { "name": "macvlan-hl", "allow_users": ["alice", "root"], "allow_groups": ["lan-users"] },
        { "name": "macvlan-dhcp", "allow_users": ["alice"] },
        { "name": "mv-slow", "allow_users": ["alice"] }
        """;

    /// <summary>config.json as packaged, with these resources.</summary>
    public void WriteConfig(string resources) => System.WriteFile(Config, $$"""
        {
          // written by the package tests
          "domain_socket": { "path": "/run/net-porter.sock", "user": "root", "group": "net-porter", "mode": "0660" },
          "resources": [
            {{resources}}
          ]
        }
        """);

    /// <summary>
    /// systemctl reload, then waits for the server's journal to say how it ended (with Type=notify and ExecReload=kill
    /// -HUP, systemctl may return before the server has read the file); returns the journal since the reload.
    /// </summary>
    public string Reload(string expected)
    {
        var cursor = System.Cursor();
        System.Check("systemctl", "reload", "net-porter.service");
        return System.WaitForJournal("net-porter.service", expected, cursor, TimeSpan.FromSeconds(20));
    }

    public int Uid(string user) => int.Parse(System.Check("id", "-u", user).Trim(), CultureInfo.InvariantCulture);

    public string UserSocket(string user) => $"/run/user/{Uid(user)}/net-porter.sock";

    /// <summary>Waits until the user's own socket serves them (made, handed to them, listening).</summary>
    public void WaitForUserSocket(string user)
    {
        var path = UserSocket(user);
        Wait.Until(() => System.Run("test", "-S", path).ExitCode == 0 && System.As(user, $"{Plugin} status --socket {path}").ExitCode == 0,
            TimeSpan.FromSeconds(20), $"{path} serving {user}", () => System.Journal("net-porter.service"));
    }

    /// <summary>A process of the user in a network namespace of its own (unshare -rn), as the system's PID namespace numbers it.</summary>
    public int StartNetnsProcess(string user)
    {
        var started = System.As(user, "unshare -rn sleep 900 </dev/null >/dev/null 2>&1 & echo $!");
        if (started.ExitCode != 0)
        {
            throw new TestbedException($"cannot start a namespace process as {user}: {started}");
        }
        var pid = int.Parse(started.Stdout.Trim(), CultureInfo.InvariantCulture);
        // unshare has made the namespace once the process is sleep.
        Wait.Until(() => System.Run("cat", $"/proc/{pid}/comm").Stdout.Trim() == "sleep", TimeSpan.FromSeconds(10), $"process {pid} in its own namespace");
        return pid;
    }

    /// <summary>The user's attachments as `net-porter status --json` lists them.</summary>
    public IReadOnlyList<JsonNode> Attachments(string user)
    {
        var status = System.As(user, $"{Plugin} status --json");
        if (status.ExitCode != 0)
        {
            throw new TestbedException($"net-porter status as {user} failed: {status}");
        }
        return [.. JsonNode.Parse(status.Stdout)!["attachments"]!.AsArray().Select(a => a!)];
    }

    /// <summary>The address in `ip -o -4 addr` output, without its prefix.</summary>
    public string HostLocalAddress(string ipAddrOutput) =>
        global::System.Text.RegularExpressions.Regex.Match(ipAddrOutput, @"inet ([0-9.]+)/").Groups[1].Value;

    /// <summary>`ip` inside the network namespace of a process of the system.</summary>
    public ShellResult InNetnsOf(int pid, params string[] command) =>
        System.Run(["nsenter", $"--net=/proc/{pid}/ns/net", "--", .. command]);

    public void Dispose()
    {
        DhcpServer?.Dispose();
        System?.Dispose();
        Shell.Try("rm", "-rf", _work);
    }

    public static string MacvlanHostLocal(string name, string first, string last) => $$"""
        { "cniVersion": "1.0.0", "name": "{{name}}",
          "plugins": [ { "type": "macvlan", "master": "{{ScratchLan.Uplink}}", "mode": "bridge",
            "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{ScratchLan.Subnet}}", "rangeStart": "{{first}}", "rangeEnd": "{{last}}", "gateway": "{{ScratchLan.Gateway}}" }]] } } ] }
        """;

    private static readonly string SlowNetwork = $$"""
        { "cniVersion": "1.0.0", "name": "mv-slow",
          "plugins": [
            { "type": "macvlan", "master": "{{ScratchLan.Uplink}}", "mode": "bridge",
              "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{ScratchLan.Subnet}}", "rangeStart": "192.168.77.120", "rangeEnd": "192.168.77.129" }]] } },
            { "type": "np-slow" } ] }
        """;

    private static readonly string DhcpNetwork = $$"""
        { "cniVersion": "1.0.0", "name": "macvlan-dhcp",
          "plugins": [ { "type": "macvlan", "master": "{{ScratchLan.Uplink}}", "mode": "bridge", "ipam": { "type": "dhcp" } } ] }
        """;

    /// <summary>A CNI plugin whose ADD takes two minutes (longer than any test waits): a setup stays under way until killed.</summary>
    private const string SlowPlugin = """
        #!/bin/sh
        case "$CNI_COMMAND" in
          VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}' ;;
          ADD) cat >/dev/null; sleep 120; echo '{"cniVersion":"1.0.0"}' ;;
          *) cat >/dev/null ;;
        esac
        """;
}

[CollectionDefinition(Name)]
public sealed class InstalledCollection : ICollectionFixture<InstalledSystem>
{
    public const string Name = "installed";
}
