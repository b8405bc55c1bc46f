namespace Porter.Server.Drivers;

/// <summary>ipvlan: interfaces share the master NIC's MAC, so no container can choose one, and DHCP cannot key on it.</summary>
public sealed class IpvlanDriver : IInterfaceDriver
{
    public static readonly IpvlanDriver Instance = new();

    public string Kind => "ipvlan";
    public bool HasOwnMac => false;
    public string? HostBridge => null;
}
