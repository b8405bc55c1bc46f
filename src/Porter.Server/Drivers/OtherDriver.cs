namespace Porter.Server.Drivers;

/// <summary>Any other main plugin (ptp, host-device, vlan, ...): run as configured, with nothing special around it.</summary>
public sealed class OtherDriver(string kind) : IInterfaceDriver
{
    public string Kind => kind;
    public bool HasOwnMac => true;
    public string? HostBridge => null;
}
