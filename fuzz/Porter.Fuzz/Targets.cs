using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Net;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Porter.Plugin;
using Porter.Plugin.Commands;
using Porter.Plugin.Connection;
using Porter.Plugin.Netavark;
using Porter.Protocol.V1;
using Porter.Server.Attachments;
using Porter.Server.Authorization;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Types;
using Porter.Server.Configuration;
using Porter.Server.Dhcp;
using Porter.Server.Drivers;
using Porter.Server.Identity;
using Porter.Server.Json;
using Porter.Server.Netavark;

namespace Porter.Fuzz;

/// <summary>
/// Every fuzz target. Each one runs the real parsing code the way the plugin or the server runs it on untrusted input,
/// then checks the properties the rest of the code relies on (<see cref="InvariantException"/>).
/// </summary>
public static class Targets
{
    public static readonly ImmutableArray<FuzzTarget> All =
    [
        new("netavark-setup", "the plugin's stdin for setup/teardown (netavark's NetworkPluginExec JSON)", NetavarkSetup, e => e is PluginException),
        new("netavark-create", "the plugin's stdin for create (podman's network JSON, echoed back amended)", NetavarkCreate, e => e is PluginException),
        new("request", "the server's Setup/Teardown/Create requests: protobuf bytes, validation, access, attachment plan", Request, IsRequestRefusal),
        new("config", "config.json (ConfigLoader) and the access decisions made from it", Config, e => e is ConfigException),
        new("cni-config", "CNI .conf/.conflist/.json files (NetworkConfigLoader) and their normalised re-reading", CniConfig, e => e is ConfigException),
        new("cni-result", "a CNI plugin's ADD result (CniResult) and the StatusBlock built from it", CniResultTarget, e => e is FormatException),
        new("dhcp", "a DHCP reply to DHCPINFORM (DhcpInform.TryParseAck, RFC 3397 search lists)", Dhcp, _ => false),
    ];

    public static FuzzTarget Named(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"unknown fuzz target '{name}' (known: {string.Join(", ", All.Select(t => t.Name))})");

    private const string Netns = "/run/user/1000/netns/netns-fuzz";

    // ---- the plugin ----

    /// <summary>What setup and teardown do with stdin before they call the server.</summary>
    private static void NetavarkSetup(byte[] data)
    {
        using var stdin = new MemoryStream(data, writable: false);
        var input = AttachInput.Read(new PluginContext(["setup", Netns], stdin, Stream.Null, TextWriter.Null), "setup");
        // The requests must reach the wire: serializing is where protobuf refuses what it cannot carry.
        _ = RequestMapping.ToSetup(input.Exec, input.Options.Resource, input.Netns).ToByteArray();
        _ = RequestMapping.ToTeardown(input.Exec, input.Options.Resource, input.Netns).ToByteArray();
    }

    /// <summary>What create does with stdin, minus the server's answer: parse, map, amend, print.</summary>
    private static void NetavarkCreate(byte[] data)
    {
        using var stdin = new MemoryStream(data, writable: false);
        var (network, document, options) = CreateCommand.ReadInput(stdin);
        _ = new CreateRequest { Resource = options.Resource, Network = RequestMapping.ToProto(network) }.ToByteArray();
        CreateCommand.Amend(document, network);
        var echoed = document.ToJsonString();
        // podman reads the echo back as its network: it must still be a network, the same one.
        var again = PluginInput.Parse(Encoding.UTF8.GetBytes(echoed), NetavarkJsonContext.Default.Network, "echoed network");
        Check(again.Name == network.Name && again.Id == network.Id, "the echoed network is not the network that came in");
    }

    // ---- the server: requests ----

    private static readonly CallerIdentity Caller = new(1000, 1000, 4242, "alice", [new GroupEntry(1000, "alice"), new GroupEntry(100, "lan-users")]);

    private static readonly Lazy<ServerSnapshot> Snapshot = new(LoadSnapshot);

    /// <summary>The shipped example networks, offered to alice with static address ranges, plus one she is not granted.</summary>
    private static ServerSnapshot LoadSnapshot()
    {
        const string config = """
            {"resources": [
              {"name": "macvlan-dhcp", "allow_users": ["alice"]},
              {"name": "macvlan-static", "allow_groups": [{"group": "lan-users", "ips": ["192.168.1.32-192.168.1.95", "fd00::/64"], "macs": ["02:42:ac:11:00:00/40"]}]},
              {"name": "bridge-nat", "allow_users": [{"user": 1000, "ips": ["10.88.10.2-10.88.10.200"], "macs": ["02:00:00:00:00:01-02:00:00:00:00:ff"]}]},
              {"name": "dual-stack", "allow_groups": ["lan-users"]},
              {"name": "ipvlan-l3", "allow_users": [{"user": "alice", "ips": ["10.77.0.0/24"], "macs": ["02:42:00:00:00:00/24"]}]},
              {"name": "not-granted", "allow_users": ["bob"]}
            ]}
            """;
        var parsed = ConfigLoader.Parse("/etc/net-porter/config.json", Encoding.UTF8.GetBytes(config));
        var options = new CniLoadOptions("/var/lib/net-porter/host-local", "/var/lib/net-porter/dhcp/dhcp.sock");
        var networks = ImmutableDictionary.CreateBuilder<string, NetworkConfigList>(StringComparer.Ordinal);
        var assembly = typeof(Targets).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("cni.d/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var list = NetworkConfigLoader.ParseList(buffer.ToArray(), "/etc/net-porter/" + name, null, options);
            networks[list.Name] = list;
        }
        networks["not-granted"] = networks["macvlan-dhcp"] with { Name = "not-granted" };
        return new ServerSnapshot(parsed, networks.ToImmutable());
    }

    /// <summary>The refusals a client can cause with a bad request before anything runs.</summary>
    private static bool IsRequestRefusal(Exception e) =>
        e is InvalidProtocolBufferException ||
        e is RpcException { StatusCode: StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.PermissionDenied };

    /// <summary>
    /// The same bytes as each of the three requests that carry caller data, through the checks the server makes before
    /// it opens the caller's namespace (AttachmentService.SetupAsync/TeardownAsync, CreateCheck.CreateAsync, in order).
    /// The input counts as refused when all three refuse it (with the Setup's refusal).
    /// </summary>
    private static void Request(byte[] data)
    {
        var snapshot = Snapshot.Value;
        var refusals = new List<Exception>();
        foreach (var check in new Action[] { () => Setup(snapshot, data), () => Teardown(data), () => Create(snapshot, data) })
        {
            try
            {
                check();
            }
            catch (Exception e) when (IsRequestRefusal(e))
            {
                refusals.Add(e);
            }
        }
        if (refusals.Count == 3)
        {
            throw refusals[0];
        }
    }

    private static void Setup(ServerSnapshot snapshot, byte[] data)
    {
        var request = SetupRequest.Parser.ParseFrom(data);
        RequestValidator.ContainerId(request.ContainerId);
        RequestValidator.ContainerName(request.ContainerName);
        RequestValidator.InterfaceName(request.InterfaceName);
        var (resource, network, decision) = RequestAccess.Authorize(snapshot, Caller, request.Resource);
        var plan = AttachmentPlan.For(network, NetworkKind.Of(network), request, Caller.Uid);
        RequestAccess.CheckStaticAddresses(request, decision, Caller, resource.Name);
        var key = new AttachmentKey(Caller.Uid, resource.Name, request.ContainerId, request.InterfaceName);
        CheckKey(key);
        foreach (var (name, value) in plan.CniArgs)
        {
            // CNI_ARGS is "K=V;K=V": a ';' or '=' in a value would add keys of the caller's choosing.
            Check(!name.Any(c => c is ';' or '=') && !value.Any(c => c is ';' or '=' || char.IsControl(c)), $"CNI_ARGS pair {name}={value} can inject");
        }
        foreach (var (_, node) in plan.CapabilityArgs.Concat(plan.ConfigArgs))
        {
            _ = node.ToJsonString();
        }
    }

    private static void Teardown(byte[] data)
    {
        var request = TeardownRequest.Parser.ParseFrom(data);
        RequestValidator.Resource(request.Resource);
        RequestValidator.ContainerId(request.ContainerId);
        RequestValidator.InterfaceName(request.InterfaceName);
        CheckKey(new AttachmentKey(Caller.Uid, request.Resource, request.ContainerId, request.InterfaceName));
    }

    private static void Create(ServerSnapshot snapshot, byte[] data)
    {
        var request = CreateRequest.Parser.ParseFrom(data);
        RequestAccess.Authorize(snapshot, Caller, request.Resource);
    }

    /// <summary>What validation promises for the names built from a request: file names, lock keys, environment values.</summary>
    private static void CheckKey(AttachmentKey key)
    {
        // The record's name is the file name of the attachment's cache record and of its held namespace.
        var name = key.Record.Name;
        Check(name.Length is > 0 and <= 255 && !name.Contains('/') && !name.Any(char.IsControl) && name is not ("." or ".."),
            $"file name {JsonSource.Quote(name)} built from a validated request is not a plain file name");
        // CNI_CONTAINERID and CNI_IFNAME: a value may hold '=' or ';' (the kernel allows both in interface names; only
        // CNI_ARGS, checked in Setup, splits on them), but no NUL or newline.
        foreach (var value in new[] { key.ScopedContainerId, key.IfName })
        {
            Check(!value.Any(char.IsControl), $"environment value {JsonSource.Quote(value)} holds a control character");
        }
    }

    // ---- the server: configuration ----

    private static readonly CallerIdentity[] Callers =
    [
        Caller,
        new(0, 0, 1, "root", [new GroupEntry(0, "root")]),
        new(4294967295, 4294967295, 2, "", []),
    ];

    private static readonly IPAddress[] Probes =
        [IPAddress.Parse("192.168.1.70"), IPAddress.Parse("0.0.0.0"), IPAddress.Parse("255.255.255.255"), IPAddress.Parse("fd00:1::5"), IPAddress.IPv6Any, IPAddress.Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")];

    private static void Config(byte[] data)
    {
        var config = ConfigLoader.Parse("/etc/net-porter/config.json", data);
        foreach (var resource in config.Resources)
        {
            foreach (var caller in Callers)
            {
                var decision = AccessPolicy.Decide(resource, caller);
                foreach (var range in decision.Ips)
                {
                    Check(range.Contains(range.First) && range.Contains(range.Last), $"IP range {range} does not contain its own ends");
                    _ = Probes.Count(range.Contains);
                }
                foreach (var range in decision.Macs)
                {
                    _ = range.Contains("02:42:c0:a8:01:05");
                }
            }
        }
        _ = AccessPolicy.GrantedResources(config, Caller).ToList();
    }

    private static void CniConfig(byte[] data)
    {
        var options = new CniLoadOptions("/var/lib/net-porter/host-local", "/var/lib/net-porter/dhcp/dhcp.sock");
        var list = NetworkConfigLoader.ParseList(data, "/etc/net-porter/cni.d/fuzz.conflist", null, options);
        // Teardown rebuilds the list from exactly these bytes (the cache record): what loaded once must load again, the same.
        NetworkConfigList again;
        try
        {
            again = NetworkConfigList.FromBytes(list.Bytes, "/var/lib/net-porter/cache/fuzz");
        }
        catch (ConfigException e)
        {
            throw new InvariantException($"the normalised list does not load again: {e.Message}");
        }
        Check(again.Name == list.Name && again.CniVersion == list.CniVersion &&
              again.Plugins.Select(p => (p.Type, p.IpamType)).SequenceEqual(list.Plugins.Select(p => (p.Type, p.IpamType))),
            "the normalised list loads as a different network");
        foreach (var plugin in list.Plugins)
        {
            _ = plugin.ToJsonObject();
        }
        _ = list.UsesDhcp;
    }

    // ---- the server: CNI results ----

    private static readonly IReadOnlyList<(string, string)> PodmanSubnets = [("192.168.1.0/24", "192.168.1.1"), ("fd00::/64", ""), ("bogus", "")];

    /// <summary>A plugin's stdout as CniRuntime reads it (a FormatException is its CniException), then the StatusBlock.</summary>
    private static void CniResultTarget(byte[] data)
    {
        var raw = CniResult.ReadObject(data);
        var result = CniResult.Parse(raw);
        var block = StatusBlockBuilder.Build(result, "eth0", PodmanSubnets);
        foreach (var server in block.DnsServerIps)
        {
            Check(IPAddress.TryParse(server, out _), $"DNS server '{server}' is not an address");
        }
        CheckDomains(block.DnsSearchDomains);
        _ = block.ToByteArray();
        // The raw result is the next plugin's prevResult and is written to the cache.
        _ = raw.ToJsonString();
    }

    // ---- the server: DHCP ----

    /// <summary>A packet off the LAN. Its own xid is used, so that the fuzzer gets past the "is this our reply" check.</summary>
    private static void Dhcp(byte[] data)
    {
        var xid = data.Length >= 8 ? BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(4)) : 0;
        if (DhcpInform.TryParseAck(data, xid, out var info))
        {
            foreach (var server in info.Servers)
            {
                Check(IPAddress.TryParse(server, out _), $"DNS server '{server}' is not an address");
            }
            CheckDomains(info.SearchDomains);
        }
        CheckDomains(DhcpInform.DecodeSearchList(data));
    }

    /// <summary>Search domains end up in the container's resolv.conf ("search a b"): nothing but DNS names may get there.</summary>
    private static void CheckDomains(IEnumerable<string> domains)
    {
        foreach (var domain in domains)
        {
            Check(domain.Length is > 0 and <= 253 && domain.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'),
                $"search domain {JsonSource.Quote(domain)} is not a DNS name");
        }
    }

    private static void Check(bool condition, string problem)
    {
        if (!condition)
        {
            throw new InvariantException(problem);
        }
    }
}
