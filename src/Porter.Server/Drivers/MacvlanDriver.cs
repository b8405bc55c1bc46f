namespace Porter.Server.Drivers;

/// <summary>macvlan: an interface with its own MAC on the master NIC's LAN; nothing on the host to share or clean up.</summary>
public sealed class MacvlanDriver : IInterfaceDriver
{
    public static readonly MacvlanDriver Instance = new();

    public string Kind => "macvlan";
    public bool HasOwnMac => true;
    public string? HostBridge => null;
}
