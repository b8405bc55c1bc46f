namespace Porter.Server.Native;

public static class SystemPaths
{
    /// <summary>
    /// The PATH of every program the server runs (CNI plugins, the DHCP daemon, ip): fixed, never the daemon's own,
    /// and with the sbin directories bridge (ipMasq), portmap and firewall need for iptables.
    /// </summary>
    public const string Search = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}
