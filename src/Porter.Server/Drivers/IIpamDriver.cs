namespace Porter.Server.Drivers;

/// <summary>
/// How a resource's main plugin gets its addresses (its IPAM plugin). As with <see cref="IInterfaceDriver"/>, what
/// differs between IPAM kinds is answered here, one file per kind.
/// </summary>
public interface IIpamDriver
{
    /// <summary>The IPAM plugin's type, or null when the main plugin has no IPAM.</summary>
    string? Type { get; }

    /// <summary>Null when a container may ask for static IPs; otherwise why it may not.</summary>
    string? WhyNoStaticIps(string resource);

    /// <summary>Whether a requested address must carry its prefix length (taken from the podman network's subnets).</summary>
    bool StaticIpsNeedPrefix { get; }

    /// <summary>Whether podman may pick the addresses (networks created with --subnet) and hand them over as static IPs.</summary>
    bool TakesPodmanAddresses { get; }

    /// <summary>Whether a lease lives as long as the attachment: renewed from inside the (held) namespace, released by DEL.</summary>
    bool KeepsLease { get; }

    /// <summary>Whether DNS settings can be asked from the LAN (the DHCP server) when nothing else gives them.</summary>
    bool DnsFromLan { get; }

    /// <summary>Plain words for a plugin failure whose own message does not say what is wrong, or "".</summary>
    string Explain(string pluginError, string resource);
}
