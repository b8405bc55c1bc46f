namespace Porter.Server.Drivers;

/// <summary>No IPAM: a layer-2 attachment; addresses, if any, are the container's own business.</summary>
public sealed class NoIpam : IIpamDriver
{
    public static readonly NoIpam Instance = new();

    public string? Type => null;
    public string? WhyNoStaticIps(string resource) => $"resource '{resource}' has no IPAM, so static IPs cannot be assigned on it";
    public bool StaticIpsNeedPrefix => false;
    public bool TakesPodmanAddresses => false;
    public bool KeepsLease => false;
    public bool DnsFromLan => false;
    public string Explain(string pluginError, string resource) => "";
}
