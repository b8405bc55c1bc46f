namespace Porter.Server.Drivers;

/// <summary>
/// dhcp: the LAN's DHCP server assigns addresses, through the CNI dhcp daemon that the server runs. Leases are renewed
/// from inside the container's namespace for as long as the attachment lives, and the LAN also knows the DNS servers.
/// </summary>
public sealed class DhcpIpam : IIpamDriver
{
    public static readonly DhcpIpam Instance = new();

    public string? Type => "dhcp";
    public string? WhyNoStaticIps(string resource) => $"resource '{resource}' gets its addresses by DHCP; static IPs cannot be assigned on it";
    public bool StaticIpsNeedPrefix => false;
    public bool TakesPodmanAddresses => false;
    public bool KeepsLease => true;
    public bool DnsFromLan => true;

    // The dhcp plugin says only "no more tries" when no DHCP server answered.
    public string Explain(string pluginError, string resource) =>
        pluginError.Contains("no more tries", StringComparison.Ordinal) ? $"no DHCP server answered on the network of resource '{resource}'" : "";
}
