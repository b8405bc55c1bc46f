using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Porter.Server.Authorization;
using Porter.Server.Net;

namespace Porter.Server.Configuration;

/// <summary>The validated contents of config.json. Immutable: a reload builds a new one and swaps it in whole.</summary>
public sealed record ServerConfig
{
    public required string SourcePath { get; init; }
    public required DomainSocketConfig DomainSocket { get; init; }
    public required ImmutableArray<ResourceConfig> Resources { get; init; }
    public required LogConfig Log { get; init; }
    /// <summary>Directory of CNI network configurations (.conflist, .conf, and &lt;resource&gt;.json).</summary>
    public required string CniDir { get; init; }
    /// <summary>Directory holding the CNI plugin binaries (CNI_PATH).</summary>
    public required string CniPluginDir { get; init; }
    /// <summary>Where attachments, the CNI cache and IPAM allocations live (root-only).</summary>
    public required string StateDir { get; init; }
    /// <summary>How long one CNI plugin execution may run before it is killed.</summary>
    public required TimeSpan PluginTimeout { get; init; }
    /// <summary>How often attachments whose container is gone are looked for (and released).</summary>
    public required TimeSpan GcInterval { get; init; }
    public required UserSocketsConfig UserSockets { get; init; }
    public required DhcpConfig Dhcp { get; init; }
    public required LimitsConfig Limits { get; init; }

    public ResourceConfig? FindResource(string name) =>
        Resources.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.Ordinal));
}

public sealed record DomainSocketConfig(string Path, string User, string Group, int Mode);

/// <summary>One resource: a CNI network of the same name and who may attach containers to it.</summary>
public sealed record ResourceConfig(string Name, ImmutableArray<Grant> AllowUsers, ImmutableArray<Grant> AllowGroups)
{
    /// <summary>
    /// How long setup waits for IPv6 addresses the LAN's router advertisements configure (SLAAC), to report them
    /// too; zero reports only those already there.
    /// </summary>
    public TimeSpan SlaacWait { get; init; }

    /// <summary>DNS settings handed to podman for the containers' resolv.conf; they take the place of any the LAN gives.</summary>
    public ResourceDns Dns { get; init; } = ResourceDns.None;

    /// <summary>A pure layer-2 segment: a bridge the host takes no part in (see Drivers/SegmentDriver).</summary>
    public bool Segment { get; init; }
}

/// <summary>A resource's DNS servers (IP addresses) and search domains, as config.json "dns" gives them.</summary>
public sealed record ResourceDns(ImmutableArray<string> Servers, ImmutableArray<string> Search)
{
    public static readonly ResourceDns None = new([], []);
}

/// <summary>
/// A user or group allowed to use a resource, and the static IPs and MACs they may ask for there
/// (none unless listed: addresses then come from the resource's own IPAM).
/// </summary>
public sealed record Grant(Principal Principal, ImmutableArray<IpRange> Ips, ImmutableArray<MacRange> Macs)
{
    public static Grant Of(Principal principal) => new(principal, [], []);

    public override string ToString() =>
        Ips.IsEmpty && Macs.IsEmpty ? Principal.ToString()
        : $"{Principal} (ips: {(Ips.IsEmpty ? "-" : string.Join(", ", Ips))}; macs: {(Macs.IsEmpty ? "-" : string.Join(", ", Macs))})";
}

/// <summary>A user or group named in an ACL, by name ("alice") or by number (1000 or "1000").</summary>
public sealed record Principal(string? Name, uint? Id)
{
    public override string ToString() => Name ?? Id!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Logging: the level, every plugin call's environment (dump_env), and a phase-timing line per call (timings).</summary>
public sealed record LogConfig(LogLevel Level, bool DumpEnv, bool Timings = false);

/// <summary>
/// Per-user sockets: rootless netavark runs the plugin where only /run/user/UID of the host's /run is visible, so
/// each granted user with a runtime directory gets RuntimeDir/UID/net-porter.sock (theirs, 0600).
/// </summary>
public sealed record UserSocketsConfig(bool Enabled, string RuntimeDir)
{
    public const string SocketName = "net-porter.sock";
}

/// <summary>
/// The DHCP daemon the server runs. RequestTimeout bounds each exchange; with the retries the daemon makes, a setup
/// on a LAN without a DHCP server fails after about 5 x RequestTimeout + 12 s instead of minutes.
/// </summary>
public sealed record DhcpConfig(TimeSpan RequestTimeout, bool Broadcast)
{
    public static readonly DhcpConfig Default = new(TimeSpan.FromSeconds(3), false);
}

/// <summary>What one non-root user may hold at once; root is not limited.</summary>
public sealed record LimitsConfig(int ConnectionsPerUser, int ConcurrentRequestsPerUser, int AttachmentsPerUser)
{
    public static readonly LimitsConfig Default = new(ConnectionsPerUser: 32, ConcurrentRequestsPerUser: 8, AttachmentsPerUser: 256);
}
