namespace Porter.Server.Drivers;

/// <summary>
/// The kind of interface a resource's main CNI plugin makes. Whatever net-porter must do differently for one kind is
/// asked here, and each kind keeps its answers in a file of its own, as netavark's network drivers do.
/// </summary>
public interface IInterfaceDriver
{
    /// <summary>The main plugin's type ("macvlan", "ipvlan", "bridge", or another plugin's).</summary>
    string Kind { get; }

    /// <summary>Whether the interface has a MAC address of its own (a DHCP server can then tell containers apart by it).</summary>
    bool HasOwnMac { get; }

    /// <summary>The host bridge this kind's attachments share, or null; attachments on one bridge take turns.</summary>
    string? HostBridge { get; }

    /// <summary>Whether the host bridge is a pure layer-2 segment, sealed off from the host after every ADD (<see cref="SegmentDriver"/>).</summary>
    bool IsSegment => false;
}
