using Porter.Server.Cni.Config;

namespace Porter.Server.Drivers;

/// <summary>A resource's kind, from its main plugin: the interface it makes and how that interface gets addresses.</summary>
public sealed record NetworkKind(IInterfaceDriver Interface, IIpamDriver Ipam)
{
    /// <param name="segment">The resource is a layer-2 segment (config.json "segment"; checked against the network at load).</param>
    public static NetworkKind Of(NetworkConfigList list, bool segment = false)
    {
        var main = list.MainPlugin;
        IInterfaceDriver driver = main.Type switch
        {
            "bridge" when segment => SegmentDriver.For(main),
            "macvlan" => MacvlanDriver.Instance,
            "ipvlan" => IpvlanDriver.Instance,
            "bridge" => BridgeDriver.For(main),
            var other => new OtherDriver(other),
        };
        IIpamDriver ipam = main.IpamType switch
        {
            null => NoIpam.Instance,
            "dhcp" => DhcpIpam.Instance,
            "host-local" => HostLocalIpam.Instance,
            "static" => StaticIpam.Instance,
            var other => new OtherIpam(other),
        };
        return new NetworkKind(driver, ipam);
    }
}
