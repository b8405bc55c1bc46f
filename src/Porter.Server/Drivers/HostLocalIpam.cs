namespace Porter.Server.Drivers;

/// <summary>host-local: addresses from the CNI file's ranges, kept on the host; a requested address may be bare.</summary>
public sealed class HostLocalIpam : IIpamDriver
{
    public static readonly HostLocalIpam Instance = new();

    public string? Type => "host-local";
    public string? WhyNoStaticIps(string resource) => null;
    public bool StaticIpsNeedPrefix => false;
    public bool TakesPodmanAddresses => true;
    public bool KeepsLease => false;
    public bool DnsFromLan => false;
    public string Explain(string pluginError, string resource) => "";
}
