using Porter.Testbed;

namespace Porter.IntegrationTests.Infrastructure;

/// <summary>
/// One complete test world: a scratch host + LAN, test users, a workspace with CNI networks, and the published
/// net-porter-server running in the scratch host namespace. Users are "logged in" (have a runtime directory), so the
/// granted ones get per-user sockets, which the plugin finds by itself.
///   alice   — granted every resource by name (ipvl-static through the original README's "allow_user" alias), with
///             static IPs 192.168.77.32/27 and MACs 02:42:c0:a8:4d:00/40 where static addressing applies
///   bob     — granted mv-hl only through membership of the "lan" group
///   mallory — may connect to the main socket, but is granted nothing (so she has no per-user socket)
///   root    — granted mv-hl and mv-dhcp (for attach, netns up and status as root)
/// </summary>
public sealed class LanWorld : IDisposable
{
    public const string MacvlanHostLocal = "mv-hl";
    public const string IpvlanStatic = "ipvl-static";
    public const string BrokenChain = "mv-broken";
    public const string MacvlanL2 = "mv-l2";
    public const string MacvlanStatic = "mv-static";
    /// <summary>macvlan on a second uplink that tests may delete, to play a NIC that vanished.</summary>
    public const string MacvlanSpareUplink = "mv-spare";
    public const string SpareUplink = "uplink1";
    /// <summary>macvlan with DHCP from the LAN's dnsmasq.</summary>
    public const string MacvlanDhcp = "mv-dhcp";
    /// <summary>macvlan with DHCP on the spare uplink, where no DHCP server answers.</summary>
    public const string MacvlanDhcpSilent = "mv-dhcp-silent";
    /// <summary>A host bridge with NAT, hairpin, port mappings, firewall, tuning and bandwidth.</summary>
    public const string BridgeNat = "br-nat";
    public const string BridgeName = "npbr0";
    public const string BridgeSubnet = "10.89.0.0/24";
    public const string BridgeGateway = "10.89.0.1";
    /// <summary>A bridge the administrator made before (net-porter must never remove it).</summary>
    public const string BridgeExisting = "br-existing";
    public const string ExistingBridgeName = "npbr1";
    /// <summary>A pure layer-2 segment (config.json "segment": true): a bridge without host address, shared by alice, bob and root.</summary>
    public const string Segment = "seg";
    public const string SegmentBridge = "npseg0";
    public const string SegmentSubnet = "10.91.0.0/24";
    public const string MacvlanPrivate = "mv-private";
    public const string MacvlanVepa = "mv-vepa";
    public const string MacvlanPassthru = "mv-passthru";
    public const string MacvlanSbr = "mv-sbr";
    public const string MacvlanCni11 = "mv-cni11";
    public const string MacvlanDualStack = "mv-dual";
    public const string MacvlanSlaac = "mv-slaac";
    /// <summary>The scratch host's own address on the LAN (port mappings and NAT go through it).</summary>
    public const string HostAddress = "192.168.77.2";

    private readonly Disposables _owned = new();

    public LanWorld()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new TestbedException("the integration tests must run as root (they create namespaces, users and links)");
        }
        try
        {
            Lan = Own(ScratchLan.Create());
            SocketGroup = Own(TestGroup.Create("sock"));
            LanGroup = Own(TestGroup.Create("lan"));
            Alice = Own(TestUser.Create("alice", SocketGroup));
            Bob = Own(TestUser.Create("bob", SocketGroup, LanGroup));
            Mallory = Own(TestUser.Create("mallory", SocketGroup));
            Workspace = Own(Workspace.Create());
            WriteNetworks(Workspace);
            Workspace.WriteConfig(Config());
            foreach (var user in new[] { Alice, Bob, Mallory })
            {
                Workspace.RuntimeDirOf(user);
            }
            // A root-owned namespace every caller can name: the scratch host's, bind-mounted where callers can see it.
            File.WriteAllText(HostNetnsBind, "");
            Shell.Check("mount", "--bind", Lan.HostNsPath, HostNetnsBind);
            CreateSpareUplink();
            Shell.Check("ip", "-n", Lan.HostNs, "addr", "add", $"{HostAddress}/24", "dev", ScratchLan.Uplink);
            Shell.Check("ip", "-n", Lan.HostNs, "link", "add", ExistingBridgeName, "type", "bridge");
            Dhcp = Own(DnsmasqServer.Start(Lan, Workspace.Root));
            Server = Own(PorterServerProcess.Start(Lan, Workspace));
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
    public TestGroup LanGroup { get; } = null!;
    public TestUser Alice { get; } = null!;
    public TestUser Bob { get; } = null!;
    public TestUser Mallory { get; } = null!;
    public Workspace Workspace { get; } = null!;
    public DnsmasqServer Dhcp { get; } = null!;
    public PorterServerProcess Server { get; private set; } = null!;

    /// <summary>The scratch host's network namespace, bind-mounted in the shared directory.</summary>
    public string HostNetnsBind => Path.Combine(Workspace.SharedDir, "host-netns");

    public string HostLocalDir(string network) => Path.Combine(Workspace.StateDir, "host-local", network);

    /// <summary>Addresses host-local currently has allocated for a network.</summary>
    public IReadOnlyList<string> AllocatedIps(string network) =>
        Directory.Exists(HostLocalDir(network))
            ? Directory.GetFiles(HostLocalDir(network)).Select(f => Path.GetFileName(f)).Where(n => System.Net.IPAddress.TryParse(n, out _)).ToList()
            : [];

    /// <summary>Attachment records in the runtime's cache.</summary>
    public IReadOnlyList<string> CachedAttachments() =>
        Directory.Exists(Path.Combine(Workspace.StateDir, "cni", "results"))
            ? Directory.GetFiles(Path.Combine(Workspace.StateDir, "cni", "results")).Select(f => Path.GetFileName(f)!).ToList()
            : [];

    /// <summary>Stops the server hard (SIGKILL) and starts a fresh one on the same state.</summary>
    public void CrashAndRestartServer()
    {
        Server.Crash();
        RestartServer();
    }

    /// <summary>Starts a fresh server on the same state after the current one stopped (however it stopped).</summary>
    public void RestartServer()
    {
        _owned.Forget(Server);
        Server.Dispose();
        Server = Own(PorterServerProcess.Start(Lan, Workspace));
        WaitForUserSockets();
    }

    /// <summary>(Re)creates uplink1, a second veth between the scratch host and LAN, for tests that pull it away.</summary>
    public void CreateSpareUplink()
    {
        if (Lan.InHost("ip", "link", "show", SpareUplink).ExitCode == 0)
        {
            return;
        }
        Shell.Check("ip", "-n", Lan.HostNs, "link", "add", SpareUplink, "type", "veth", "peer", "name", "lan1", "netns", Lan.LanNs);
        Shell.Check("ip", "-n", Lan.HostNs, "link", "set", SpareUplink, "up");
        Shell.Check("ip", "-n", Lan.LanNs, "link", "set", "lan1", "up");
    }

    /// <summary>Until the granted users' sockets accept connections (after a crash a stale file is there before the new socket).</summary>
    public void WaitForUserSockets()
    {
        foreach (var user in new[] { Alice, Bob })
        {
            Wait.UntilAccepting(Workspace.UserSocketOf(user), TimeSpan.FromSeconds(15), $"per-user socket of {user.Name}", () => Server.Log);
        }
    }

    public RootlessCaller Caller(TestUser user) => RootlessCaller.Start(user, Workspace);

    /// <summary>A podman network for a resource; without <paramref name="socket"/> the plugin finds the per-user socket itself.</summary>
    public System.Text.Json.Nodes.JsonObject Network(string resource, IReadOnlyList<NetavarkJson.Subnet>? subnets = null, bool legacyNulls = false, string? socket = null) =>
        NetavarkJson.Network($"net-{resource}", resource, socket, subnets, legacyNulls: legacyNulls);

    /// <summary>The same, addressed to the main socket (for users who have no per-user socket).</summary>
    public System.Text.Json.Nodes.JsonObject MainSocketNetwork(string resource) => Network(resource, socket: Workspace.SocketPath);

    public void Dispose() => _owned.Dispose();

    private T Own<T>(T item) where T : IDisposable => _owned.Keep(item);

    private string Config() => $$"""
        {
          "domain_socket": { "path": "{{Workspace.SocketPath}}", "user": "root", "group": "{{SocketGroup.Name}}", "mode": "0660" },
          "resources": [
            { "name": "{{MacvlanHostLocal}}", "allow_users": ["{{Alice.Name}}", "root"], "allow_groups": ["{{LanGroup.Name}}"] },
            { "name": "{{IpvlanStatic}}", "allow_user": [{ "user": "{{Alice.Name}}", "ips": ["192.168.77.32/27"], "macs": ["02:42:c0:a8:4d:00/40"] }] },
            { "name": "{{BrokenChain}}", "allow_users": [{{Alice.Uid}}] },
            { "name": "{{MacvlanL2}}", "allow_users": [{ "user": "{{Alice.Name}}", "macs": ["02:42:c0:a8:4d:00/40"] }] },
            { "name": "{{MacvlanStatic}}", "allow_users": [{ "user": "{{Alice.Name}}", "ips": ["192.168.77.32-192.168.77.63", "10.9.9.0/24", "fd77:77::/64"] }] },
            { "name": "{{MacvlanSpareUplink}}", "allow_users": ["{{Alice.Name}}"] },
            { "name": "{{MacvlanDhcp}}", "allow_users": ["{{Alice.Name}}", "root"], "allow_groups": ["{{LanGroup.Name}}"] },
            { "name": "{{MacvlanDhcpSilent}}", "allow_users": ["{{Alice.Name}}"] },
            { "name": "{{BridgeNat}}", "allow_users": ["{{Alice.Name}}"] },
            { "name": "{{BridgeExisting}}", "allow_users": ["{{Alice.Name}}"] },
            { "name": "{{Segment}}", "segment": true, "allow_users": ["{{Alice.Name}}", "{{Bob.Name}}", "root"] },
            { "name": "{{MacvlanPrivate}}", "allow_users": ["{{Alice.Name}}"] },
            { "name": "{{MacvlanVepa}}", "allow_users": ["{{Alice.Name}}"] },
            { "name": "{{MacvlanPassthru}}", "allow_users": ["{{Alice.Name}}"] },
            { "name": "{{MacvlanSbr}}", "allow_users": ["{{Alice.Name}}"] },
            { "name": "{{MacvlanCni11}}", "allow_users": ["{{Alice.Name}}"] },
            { "name": "{{MacvlanDualStack}}", "allow_users": ["{{Alice.Name}}"] },
            { "name": "{{MacvlanSlaac}}", "allow_users": ["{{Alice.Name}}"], "slaac_wait_seconds": 8 }
          ],
          "state_dir": "{{Workspace.StateDir}}",
          "gc_interval_seconds": 2,
          "user_sockets": { "runtime_dir": "{{Workspace.UserRuntimeRoot}}" },
          "log": { "level": "debug" }
        }
        """;

    private static void WriteNetworks(Workspace workspace)
    {
        workspace.WriteCni($"{MacvlanHostLocal}.conflist", $$"""
            {
              "cniVersion": "1.0.0",
              "name": "{{MacvlanHostLocal}}",
              "plugins": [
                {
                  "type": "macvlan", "master": "{{ScratchLan.Uplink}}", "mode": "bridge",
                  "ipam": {
                    "type": "host-local",
                    "ranges": [[{ "subnet": "{{ScratchLan.Subnet}}", "rangeStart": "192.168.77.100", "rangeEnd": "192.168.77.149", "gateway": "{{ScratchLan.Gateway}}" }]],
                    "routes": [{ "dst": "0.0.0.0/0" }]
                  }
                }
              ]
            }
            """);
        // The original README's layout: <resource>.json, here a single-plugin configuration.
        workspace.WriteCni($"{IpvlanStatic}.json", $$"""
            {
              "cniVersion": "1.0.0",
              "name": "{{IpvlanStatic}}",
              "type": "ipvlan", "master": "{{ScratchLan.Uplink}}", "mode": "l2",
              "ipam": { "type": "static", "routes": [{ "dst": "0.0.0.0/0", "gw": "{{ScratchLan.Gateway}}" }] }
            }
            """);
        workspace.WriteCni($"{MacvlanStatic}.conflist", $$"""
            {
              "cniVersion": "1.0.0",
              "name": "{{MacvlanStatic}}",
              "plugins": [{ "type": "macvlan", "master": "{{ScratchLan.Uplink}}", "ipam": { "type": "static" } }]
            }
            """);
        workspace.WriteCni($"{MacvlanSpareUplink}.conflist", $$"""
            {
              "cniVersion": "1.0.0",
              "name": "{{MacvlanSpareUplink}}",
              "plugins": [{ "type": "macvlan", "master": "{{SpareUplink}}",
                            "ipam": { "type": "host-local", "ranges": [[{ "subnet": "192.168.78.0/24" }]] } }]
            }
            """);
        // The original README's example network, pointed at the scratch LAN.
        workspace.WriteCni($"{MacvlanDhcp}.json", $$"""
            {
              "cniVersion": "1.0.0",
              "name": "{{MacvlanDhcp}}",
              "plugins": [
                {
                  "type": "macvlan",
                  "master": "{{ScratchLan.Uplink}}",
                  "linkInContainer": false,
                  "ipam": {
                    "type": "dhcp",
                    "request": [{ "skipDefault": false, "option": "subnet-mask" }],
                    "provide": [{ "option": "host-name", "fromArg": "K8S_POD_NAME" }]
                  }
                }
              ]
            }
            """);
        workspace.WriteCni($"{MacvlanDhcpSilent}.conflist", $$"""
            {
              "cniVersion": "1.0.0",
              "name": "{{MacvlanDhcpSilent}}",
              "plugins": [{ "type": "macvlan", "master": "{{SpareUplink}}", "ipam": { "type": "dhcp" } }]
            }
            """);
        workspace.WriteCni($"{BridgeNat}.conflist", $$"""
            {
              "cniVersion": "1.0.0",
              "name": "{{BridgeNat}}",
              "plugins": [
                {
                  "type": "bridge", "bridge": "{{BridgeName}}", "isGateway": true, "ipMasq": true, "hairpinMode": true,
                  "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{BridgeSubnet}}" }]], "routes": [{ "dst": "0.0.0.0/0" }] }
                },
                { "type": "portmap", "capabilities": { "portMappings": true } },
                { "type": "firewall", "backend": "iptables" },
                { "type": "tuning", "sysctl": { "net.ipv4.conf.IFNAME.arp_notify": "1" } },
                { "type": "bandwidth", "capabilities": { "bandwidth": true } }
              ]
            }
            """);
        workspace.WriteCni($"{Segment}.conflist", $$"""
            {
              "cniVersion": "1.0.0",
              "name": "{{Segment}}",
              "plugins": [{ "type": "bridge", "bridge": "{{SegmentBridge}}", "isGateway": false,
                            "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{SegmentSubnet}}", "rangeStart": "10.91.0.10", "rangeEnd": "10.91.0.99" }]] } }]
            }
            """);
        workspace.WriteCni($"{BridgeExisting}.conflist", $$"""
            {
              "cniVersion": "1.0.0",
              "name": "{{BridgeExisting}}",
              "plugins": [{ "type": "bridge", "bridge": "{{ExistingBridgeName}}",
                            "ipam": { "type": "host-local", "ranges": [[{ "subnet": "10.90.0.0/24" }]] } }]
            }
            """);
        foreach (var (name, master, mode) in new[] { (MacvlanPrivate, ScratchLan.Uplink, "private"), (MacvlanVepa, ScratchLan.Uplink, "vepa"), (MacvlanPassthru, SpareUplink, "passthru") })
        {
            workspace.WriteCni($"{name}.conflist", $$"""
                { "cniVersion": "1.0.0", "name": "{{name}}", "plugins": [{ "type": "macvlan", "master": "{{master}}", "mode": "{{mode}}" }] }
                """);
        }
        workspace.WriteCni($"{MacvlanSbr}.conflist", $$"""
            {
              "cniVersion": "1.0.0",
              "name": "{{MacvlanSbr}}",
              "plugins": [
                { "type": "macvlan", "master": "{{ScratchLan.Uplink}}",
                  "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{ScratchLan.Subnet}}", "rangeStart": "192.168.77.64", "rangeEnd": "192.168.77.69", "gateway": "{{ScratchLan.Gateway}}" }]],
                            "routes": [{ "dst": "0.0.0.0/0" }] } },
                { "type": "sbr" }
              ]
            }
            """);
        // Written for a newer spec than Debian's plugins speak: it must run at 1.0.0 instead of failing.
        workspace.WriteCni($"{MacvlanCni11}.conflist", $$"""
            {
              "cniVersion": "1.1.0",
              "name": "{{MacvlanCni11}}",
              "plugins": [{ "type": "macvlan", "master": "{{ScratchLan.Uplink}}",
                            "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{ScratchLan.Subnet}}", "rangeStart": "192.168.77.70", "rangeEnd": "192.168.77.79" }]] } }]
            }
            """);
        workspace.WriteCni($"{MacvlanDualStack}.conflist", $$"""
            {
              "cniVersion": "1.0.0",
              "name": "{{MacvlanDualStack}}",
              "plugins": [{ "type": "macvlan", "master": "{{ScratchLan.Uplink}}",
                            "ipam": { "type": "host-local",
                                      "ranges": [[{ "subnet": "{{ScratchLan.Subnet}}", "rangeStart": "192.168.77.80", "rangeEnd": "192.168.77.89", "gateway": "{{ScratchLan.Gateway}}" }],
                                                 [{ "subnet": "{{ScratchLan.Subnet6}}", "rangeStart": "fd77:77::1000", "rangeEnd": "fd77:77::1fff", "gateway": "{{ScratchLan.Gateway6}}" }]] } }]
            }
            """);
        workspace.WriteCni($"{MacvlanSlaac}.conflist", $$"""
            { "cniVersion": "1.0.0", "name": "{{MacvlanSlaac}}", "plugins": [{ "type": "macvlan", "master": "{{ScratchLan.Uplink}}" }] }
            """);
        // Layer 2 only: no IPAM, the container configures itself (a standard single-plugin .conf file).
        workspace.WriteCni($"{MacvlanL2}.conf", $$"""
            { "cniVersion": "0.4.0", "name": "{{MacvlanL2}}", "type": "macvlan", "master": "{{ScratchLan.Uplink}}", "mode": "private" }
            """);
        // A chain whose second plugin always fails after the first has created the link and taken an address.
        workspace.WriteCni($"{BrokenChain}.conflist", $$"""
            {
              "cniVersion": "1.0.0",
              "name": "{{BrokenChain}}",
              "plugins": [
                {
                  "type": "macvlan", "master": "{{ScratchLan.Uplink}}",
                  "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{ScratchLan.Subnet}}", "rangeStart": "192.168.77.200", "rangeEnd": "192.168.77.220" }]] }
                },
                { "type": "tuning", "sysctl": { "net.ipv4.conf.IFNAME.no_such_setting": "1" } }
              ]
            }
            """);
    }
}

[Xunit.CollectionDefinition(Name)]
public sealed class LanWorldCollection : Xunit.ICollectionFixture<LanWorld>
{
    public const string Name = "lan world";
}
