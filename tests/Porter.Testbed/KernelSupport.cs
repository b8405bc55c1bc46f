namespace Porter.Testbed;

/// <summary>
/// Link types the running kernel can create, probed once in a throw-away namespace. Some kernels (minimal VM
/// kernels among them) are built without ipvlan; tests then check the failure path instead of pretending.
/// </summary>
public static class KernelSupport
{
    private static readonly Lazy<bool> IpvlanProbe = new(() => Probe("ipvlan", "mode", "l2"));

    public static bool Ipvlan => IpvlanProbe.Value;

    private static bool Probe(string kind, params string[] options)
    {
        var ns = $"npt-probe-{Shell.RandomId()}";
        Shell.Check("ip", "netns", "add", ns);
        try
        {
            Shell.Check("ip", "-n", ns, "link", "add", "p0", "type", "veth", "peer", "name", "p1");
            return Shell.Run("ip", ["-n", ns, "link", "add", "link", "p0", "name", "k0", "type", kind, .. options], null, TimeSpan.FromSeconds(30)).ExitCode == 0;
        }
        finally
        {
            Shell.Try("ip", "netns", "del", ns);
        }
    }
}
