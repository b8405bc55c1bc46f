namespace Porter.Server.Drivers;

/// <summary>static: exactly the addresses requested, each with its prefix length (the plugin needs "ip/prefix").</summary>
public sealed class StaticIpam : IIpamDriver
{
    public static readonly StaticIpam Instance = new();

    public string? Type => "static";
    public string? WhyNoStaticIps(string resource) => null;
    public bool StaticIpsNeedPrefix => true;
    public bool TakesPodmanAddresses => true;
    public bool KeepsLease => false;
    public bool DnsFromLan => false;
    public string Explain(string pluginError, string resource) => "";
}
