using Porter.Protocol.V1;

namespace Porter.Server.Namespaces;

/// <summary>
/// IPv6 addresses the container's interface configured itself from the LAN's router advertisements (SLAAC). The CNI
/// result cannot know them; podman shows them when the StatusBlock lists them.
/// </summary>
public static class SlaacProbe
{
    /// <summary>Adds global, dynamic (router-advertised), settled addresses of the interface, waiting up to <paramref name="wait"/> for the first.</summary>
    public static async Task AddAsync(NetInterface iface, string netnsPath, string ifName, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var found = await DynamicAddressesAsync(netnsPath, ifName).ConfigureAwait(false);
            var added = false;
            foreach (var address in found.Where(a => iface.Subnets.All(s => s.Ipnet != a)))
            {
                iface.Subnets.Add(new NetAddress { Ipnet = address, Gateway = "" });
                added = true;
            }
            if (added || found.Count > 0 || DateTime.UtcNow >= deadline)
            {
                return;
            }
            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<IReadOnlyList<string>> DynamicAddressesAsync(string netnsPath, string ifName)
    {
        var links = await IpCommand.QueryAsync(netnsPath, "-6", "addr", "show", "dev", ifName, "scope", "global").ConfigureAwait(false);
        var result = new List<string>();
        foreach (var info in links?.SelectMany(l => l?["addr_info"]?.AsArray() ?? []) ?? [])
        {
            if (info?["family"]?.GetValue<string>() == "inet6" && info["dynamic"]?.GetValue<bool>() == true && info["tentative"] is null &&
                info["local"]?.GetValue<string>() is { } local && info["prefixlen"]?.GetValue<int>() is { } prefix)
            {
                result.Add($"{local}/{prefix}");
            }
        }
        return result;
    }
}
