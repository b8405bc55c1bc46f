namespace Porter.Testbed;

/// <summary>
/// A private "host" and "LAN" made of network namespaces: the server runs in the host namespace, whose uplink
/// (a veth) leads to the LAN namespace, where a gateway address answers. Nothing touches the machine's own
/// interfaces; deleting the namespaces removes every link in them.
/// </summary>
public sealed class ScratchLan : IDisposable
{
    public const string Uplink = "uplink0";
    public const string LanInterface = "lan0";
    public const string Subnet = "192.168.77.0/24";
    public const string Gateway = "192.168.77.1";
    public const string Subnet6 = "fd77:77::/64";
    public const string Gateway6 = "fd77:77::1";

    private ScratchLan(string id)
    {
        Id = id;
        HostNs = $"npt-{id}-host";
        LanNs = $"npt-{id}-lan";
    }

    public string Id { get; }
    /// <summary>Name under /run/netns of the namespace playing the machine's root namespace.</summary>
    public string HostNs { get; }
    public string LanNs { get; }
    public string HostNsPath => $"/run/netns/{HostNs}";
    public string LanNsPath => $"/run/netns/{LanNs}";

    public static ScratchLan Create()
    {
        var lan = new ScratchLan(Shell.RandomId());
        try
        {
            Shell.Check("ip", "netns", "add", lan.HostNs);
            Shell.Check("ip", "netns", "add", lan.LanNs);
            Shell.Check("ip", "link", "add", Uplink, "netns", lan.HostNs, "type", "veth", "peer", "name", LanInterface, "netns", lan.LanNs);
            Shell.Check("ip", "-n", lan.HostNs, "link", "set", "lo", "up");
            Shell.Check("ip", "-n", lan.HostNs, "link", "set", Uplink, "up");
            Shell.Check("ip", "-n", lan.LanNs, "link", "set", "lo", "up");
            Shell.Check("ip", "-n", lan.LanNs, "addr", "add", $"{Gateway}/24", "dev", LanInterface);
            Shell.Check("ip", "-n", lan.LanNs, "addr", "add", $"{Gateway6}/64", "dev", LanInterface, "nodad");
            Shell.Check("ip", "-n", lan.LanNs, "link", "set", LanInterface, "up");
        }
        catch
        {
            lan.Dispose();
            throw;
        }
        return lan;
    }

    /// <summary>Runs a command inside the host or LAN namespace.</summary>
    public ShellResult InHost(params string[] command) => Shell.Run("ip", ["netns", "exec", HostNs, .. command], null, TimeSpan.FromSeconds(60));

    public ShellResult InLan(params string[] command) => Shell.Run("ip", ["netns", "exec", LanNs, .. command], null, TimeSpan.FromSeconds(60));

    public void Dispose()
    {
        Shell.Try("ip", "netns", "del", HostNs);
        Shell.Try("ip", "netns", "del", LanNs);
    }
}
