using Porter.Testbed;
using Porter.Testbed.Podman;

namespace Porter.PodmanTests;

/// <summary>
/// One world for the podman suite: a scratch host + LAN (dnsmasq for DHCP and router advertisements), the published
/// net-porter-server in the scratch host, and the Debian 13 world with real rootless podman 5.4 / netavark 1.14, whose
/// plugin directory holds the published net-porter. Users:
///   alice   — granted every resource; static addresses 192.168.77.32/27 (and .140-.149 of mv-hl's range) and
///             fd77:77::20/124, MACs 02:42:c0:a8:4d:00/40
///   mallory — granted only mv-l2 (so she has a per-user socket), nothing else
/// </summary>
public sealed class PodmanWorld : IDisposable
{
    public const string MacvlanHostLocal = "mv-hl";
    public const string MacvlanDhcp = "mv-dhcp";
    public const string MacvlanStatic = "mv-static";
    public const string MacvlanDual = "mv-dual";
    public const string MacvlanL2 = "mv-l2";
    public const string BridgeNat = "br-nat";
    public const string BridgeName = "npbr0";
    public const string BridgeSubnet = "10.89.0.0/24";
    public const string HostAddress = "192.168.77.2";
    public const string GrantedIps = "192.168.77.32/27";
    public const string GrantedMacs = "02:42:c0:a8:4d:00/40";
    /// <summary>Part of mv-hl's host-local range that alice may ask for with --ip.</summary>
    public const string GrantedHostLocalIps = "192.168.77.140-192.168.77.149";
    /// <summary>The DNS server mv-hl hands out (config.json "dns"), so that containers resolve names without DHCP.</summary>
    public const string ResourceDns = "192.168.77.53";

    private readonly Disposables _owned = new();

    public PodmanWorld()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new TestbedException("the podman suite must run as root (it builds namespaces, users and a Debian 13 root)");
        }
        try
        {
            Lan = Own(ScratchLan.Create());
            SocketGroup = Own(TestGroup.Create("psock"));
            AliceUser = Own(TestUser.Create("palice", SocketGroup));
            MalloryUser = Own(TestUser.Create("pmallory", SocketGroup));
            Workspace = Own(Workspace.Create());
            Shell.Check("ip", "-n", Lan.HostNs, "addr", "add", $"{HostAddress}/24", "dev", ScratchLan.Uplink);
            Shell.Check("ip", "-n", Lan.HostNs, "-6", "addr", "add", "fd77:77::2/64", "dev", ScratchLan.Uplink, "nodad");
            Shell.Check("ip", "-n", Lan.HostNs, "route", "add", "default", "via", ScratchLan.Gateway);
            WriteNetworks();
            Workspace.WriteConfig(Config());
            Dhcp = Own(DnsmasqServer.Start(Lan, Workspace.Root));
            // Logged in (runtime directories made) before the server looks, as on a host where they log in first.
            Workspace.RuntimeDirOf(AliceUser);
            Workspace.RuntimeDirOf(MalloryUser);
            Host = Own(PodmanHost.Start(Lan, Workspace, [AliceUser, MalloryUser]));
            Server = Own(PorterServerProcess.Start(Lan, Workspace));
            Alice = PodmanUser.Prepare(Host, Workspace, AliceUser);
            Mallory = PodmanUser.Prepare(Host, Workspace, MalloryUser);
            WaitForUserSockets();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public ScratchLan Lan { get; } = null!;
    public TestGroup SocketGroup { get; } = null!;
    public TestUser AliceUser { get; } = null!;
    public TestUser MalloryUser { get; } = null!;
    public Workspace Workspace { get; } = null!;
    public DnsmasqServer Dhcp { get; } = null!;
    public PodmanHost Host { get; } = null!;
    public PorterServerProcess Server { get; private set; } = null!;
    public PodmanUser Alice { get; } = null!;
    public PodmanUser Mallory { get; } = null!;

    public string HostLocalDir(string network) => Path.Combine(Workspace.StateDir, "host-local", network);

    /// <summary>Addresses host-local has allocated for a network right now.</summary>
    public IReadOnlyList<string> AllocatedIps(string network) =>
        Directory.Exists(HostLocalDir(network))
            ? Directory.GetFiles(HostLocalDir(network)).Select(f => Path.GetFileName(f)).Where(n => System.Net.IPAddress.TryParse(n, out _)).ToList()
            : [];

    /// <summary>Attachment records the server keeps right now.</summary>
    public IReadOnlyList<string> Records() =>
        Directory.Exists(Path.Combine(Workspace.StateDir, "cni", "results"))
            ? Directory.GetFiles(Path.Combine(Workspace.StateDir, "cni", "results")).Select(f => Path.GetFileName(f)!).ToList()
            : [];

    /// <summary>
    /// After each case: every container, pod and network of both users is removed, so that one failing case cannot
    /// leave something behind for the next (the case itself asserts what its own steps must leave).
    /// </summary>
    public void Reset()
    {
        foreach (var podman in new[] { Alice, Mallory })
        {
            podman.Run("pod", "rm", "-a", "-f", "-t", "0");
            podman.Run("rm", "-a", "-f", "-t", "0");
            podman.Run("network", "prune", "-f");
        }
    }

    /// <summary>Stops the server (SIGTERM, or SIGKILL when <paramref name="kill"/>) and starts a fresh one on the same state.</summary>
    public void RestartServer(bool kill)
    {
        if (kill)
        {
            Server.Crash();
        }
        else
        {
            Server.Stop();
        }
        _owned.Forget(Server);
        Server.Dispose();
        Server = Own(PorterServerProcess.Start(Lan, Workspace));
        WaitForUserSockets();
    }

    public void Dispose()
    {
        // The users' podman processes (conmon, the pause process, containers) first: they keep the world's mounts alive.
        foreach (var user in new[] { AliceUser, MalloryUser }.Where(u => u is not null))
        {
            Shell.Try("pkill", "-KILL", "-u", user.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        _owned.Dispose();
    }

    private void WaitForUserSockets()
    {
        foreach (var user in new[] { AliceUser, MalloryUser })
        {
            Wait.UntilAccepting(Workspace.UserSocketOf(user), TimeSpan.FromSeconds(15), $"per-user socket of {user.Name}", () => Server.Log);
        }
    }

    private T Own<T>(T item) where T : IDisposable => _owned.Keep(item);

    private string Config() => $$"""
        {
          "domain_socket": { "path": "{{Workspace.SocketPath}}", "group": "{{SocketGroup.Name}}" },
          "resources": [
            { "name": "{{MacvlanHostLocal}}", "allow_users": [{ "user": "{{AliceUser.Name}}", "ips": ["{{GrantedIps}}", "{{GrantedHostLocalIps}}"], "macs": ["{{GrantedMacs}}"] }],
              "dns": { "servers": ["{{ResourceDns}}"], "search": ["lan.test"] } },
            { "name": "{{MacvlanDhcp}}", "allow_users": ["{{AliceUser.Name}}"] },
            { "name": "{{MacvlanStatic}}", "allow_users": [{ "user": "{{AliceUser.Name}}", "ips": ["{{GrantedIps}}", "fd77:77::20/124"], "macs": ["{{GrantedMacs}}"] }] },
            { "name": "{{MacvlanDual}}", "allow_users": ["{{AliceUser.Name}}"] },
            { "name": "{{BridgeNat}}", "allow_users": ["{{AliceUser.Name}}"] },
            { "name": "{{MacvlanL2}}", "allow_users": ["{{AliceUser.Name}}", "{{MalloryUser.Name}}"] }
          ],
          "state_dir": "{{Workspace.StateDir}}",
          "gc_interval_seconds": 2,
          "user_sockets": { "runtime_dir": "{{Workspace.UserRuntimeRoot}}" },
          "log": { "level": "debug" }
        }
        """;

    private void WriteNetworks()
    {
        Workspace.WriteCni($"{MacvlanHostLocal}.conflist", $$"""
            {
              "cniVersion": "1.0.0", "name": "{{MacvlanHostLocal}}",
              "plugins": [{ "type": "macvlan", "master": "{{ScratchLan.Uplink}}", "mode": "bridge",
                "ipam": { "type": "host-local",
                          "ranges": [[{ "subnet": "{{ScratchLan.Subnet}}", "rangeStart": "192.168.77.100", "rangeEnd": "192.168.77.149", "gateway": "{{ScratchLan.Gateway}}" }]],
                          "routes": [{ "dst": "0.0.0.0/0" }] } }]
            }
            """);
        Workspace.WriteCni($"{MacvlanDhcp}.conflist", $$"""
            { "cniVersion": "1.0.0", "name": "{{MacvlanDhcp}}",
              "plugins": [{ "type": "macvlan", "master": "{{ScratchLan.Uplink}}", "mode": "bridge", "ipam": { "type": "dhcp" } }] }
            """);
        Workspace.WriteCni($"{MacvlanStatic}.conflist", $$"""
            { "cniVersion": "1.0.0", "name": "{{MacvlanStatic}}",
              "plugins": [{ "type": "macvlan", "master": "{{ScratchLan.Uplink}}", "mode": "bridge", "ipam": { "type": "static" } }] }
            """);
        Workspace.WriteCni($"{MacvlanDual}.conflist", $$"""
            {
              "cniVersion": "1.0.0", "name": "{{MacvlanDual}}",
              "plugins": [{ "type": "macvlan", "master": "{{ScratchLan.Uplink}}", "mode": "bridge",
                "ipam": { "type": "host-local",
                          "ranges": [[{ "subnet": "{{ScratchLan.Subnet}}", "rangeStart": "192.168.77.80", "rangeEnd": "192.168.77.89", "gateway": "{{ScratchLan.Gateway}}" }],
                                     [{ "subnet": "{{ScratchLan.Subnet6}}", "rangeStart": "fd77:77::1000", "rangeEnd": "fd77:77::1fff", "gateway": "{{ScratchLan.Gateway6}}" }]] } }]
            }
            """);
        Workspace.WriteCni($"{BridgeNat}.conflist", $$"""
            {
              "cniVersion": "1.0.0", "name": "{{BridgeNat}}",
              "plugins": [
                { "type": "bridge", "bridge": "{{BridgeName}}", "isGateway": true, "ipMasq": true,
                  "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{BridgeSubnet}}" }]], "routes": [{ "dst": "0.0.0.0/0" }] } },
                { "type": "portmap", "capabilities": { "portMappings": true } }
              ]
            }
            """);
        Workspace.WriteCni($"{MacvlanL2}.conflist", $$"""
            { "cniVersion": "1.0.0", "name": "{{MacvlanL2}}", "plugins": [{ "type": "macvlan", "master": "{{ScratchLan.Uplink}}", "mode": "bridge" }] }
            """);
    }
}

[Xunit.CollectionDefinition(Name)]
public sealed class PodmanWorldCollection : Xunit.ICollectionFixture<PodmanWorld>
{
    public const string Name = "podman world";
}
