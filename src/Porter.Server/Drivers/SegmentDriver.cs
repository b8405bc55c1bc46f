using Porter.Server.Cni.Config;

namespace Porter.Server.Drivers;

/// <summary>
/// A pure layer-2 segment (config.json "segment": true on a bridge resource): a host bridge that containers and named
/// namespaces of several users share, through which nothing on the host is reachable. The CNI file must not give the
/// host a part in it (no gateway address, no masquerading, no port mappings), which is checked when the configuration
/// is loaded (<see cref="SegmentRules"/>); and after every ADD the server seals the bridge (<see cref="IInterfaceDriver.IsSegment"/>): no IPv6 on
/// it (so no link-local address either), no ARP answers for the host's addresses, and the host neither accepts nor
/// routes what arrives on it. Extending a segment to other hosts is the administrator's (a vxlan port on the bridge).
/// </summary>
public sealed class SegmentDriver(string bridge) : IInterfaceDriver
{
    public string Kind => "bridge (segment)";
    public bool HasOwnMac => true;
    public string? HostBridge => bridge;
    public bool IsSegment => true;

    public static SegmentDriver For(PluginConfig main) => new(BridgeDriver.For(main).HostBridge!);
}
