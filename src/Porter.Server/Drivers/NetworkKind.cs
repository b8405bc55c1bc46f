using Porter.Server.Cni.Config;

namespace Porter.Server.Drivers;

/// <summary>A resource's kind, from its main plugin: the interface it makes and how that interface gets addresses.</summary>
public sealed record NetworkKind(IInterfaceDriver Interface, IIpamDriver Ipam)
{
    public static NetworkKind Of(NetworkConfigList list)
    {
        var main = list.MainPlugin;
        IInterfaceDriver driver = main.Type switch
        {
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
