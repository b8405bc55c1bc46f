namespace Porter.Server.Drivers;

/// <summary>
/// Any other IPAM plugin: requested addresses are passed on as they are (the plugin decides), but podman's own picks are
/// not, since nothing says this plugin would honour them.
/// </summary>
public sealed class OtherIpam(string type) : IIpamDriver
{
    public string? Type => type;
    public string? WhyNoStaticIps(string resource) => null;
    public bool StaticIpsNeedPrefix => false;
    public bool TakesPodmanAddresses => false;
    public bool KeepsLease => false;
    public bool DnsFromLan => false;
    public string Explain(string pluginError, string resource) => "";
}
