using System.Net;
using Porter.Protocol.V1;
using Porter.Server.Cni.Types;
using Porter.Server.Net;

namespace Porter.Server.Netavark;

/// <summary>
/// Converts a CNI result into netavark's StatusBlock the way podman's CNI backend did (CNIResultToStatus) and
/// netavark's macvlan driver reports: container-side interfaces keyed by name, each with its lowercase MAC and
/// the addresses that point at it; host-side interfaces (bridge, host veth) are left out.
/// </summary>
public static class StatusBlockBuilder
{
    /// <param name="networkSubnets">
    /// The podman network's subnets. Like netavark's macvlan, an address inside one of them reports that subnet's
    /// gateway when the CNI result names none (static IPAM fed with podman's addresses returns no gateway).
    /// </param>
    public static StatusBlock Build(CniResult result, string ifName, IReadOnlyList<(string Cidr, string Gateway)>? networkSubnets = null)
    {
        var block = new StatusBlock();
        var chosen = result.Interfaces
            .Select((iface, index) => (iface, index))
            .Where(x => x.iface.Sandbox.Length > 0)
            .ToList();
        if (chosen.Count == 0)
        {
            chosen = result.Interfaces.Select((iface, index) => (iface, index)).Where(x => x.iface.Name == ifName).ToList();
        }

        foreach (var (iface, index) in chosen)
        {
            var net = new NetInterface { MacAddress = iface.Mac.ToLowerInvariant() };
            foreach (var ip in result.Ips.Where(ip => ip.Interface == index))
            {
                net.Subnets.Add(ToAddress(ip, networkSubnets));
            }
            block.Interfaces[iface.Name] = net;
        }

        // IPAM-shaped results carry no interface index; with one container interface they can only belong to it.
        var orphans = result.Ips.Where(ip => ip.Interface is null).ToList();
        if (orphans.Count > 0)
        {
            if (chosen.Count == 0)
            {
                block.Interfaces[ifName] = new NetInterface { MacAddress = "" };
                chosen.Add((new CniInterface(ifName, "", ""), -1));
            }
            if (chosen.Count == 1)
            {
                block.Interfaces[chosen[0].iface.Name].Subnets.AddRange(orphans.Select(ip => ToAddress(ip, networkSubnets)));
            }
        }

        // netavark writes these into the container's resolv.conf: only addresses and DNS names get there.
        block.DnsServerIps.AddRange(result.Dns.Nameservers.Where(n => IpAddresses.TryParse(n, out _)));
        block.DnsSearchDomains.AddRange(result.Dns.Search.Where(DnsNames.IsValid));
        if (result.Dns.Domain is { } domain && DnsNames.IsValid(domain) && !block.DnsSearchDomains.Contains(domain))
        {
            block.DnsSearchDomains.Add(domain);
        }
        return block;
    }

    private static NetAddress ToAddress(CniIpConfig ip, IReadOnlyList<(string Cidr, string Gateway)>? networkSubnets)
    {
        var gateway = ip.Gateway ?? "";
        if (gateway.Length == 0 && networkSubnets is not null && IPAddress.TryParse(ip.Address.Split('/')[0], out var address))
        {
            gateway = networkSubnets.FirstOrDefault(s => s.Gateway.Length > 0 && IPNetwork.TryParse(s.Cidr, out var subnet) && subnet.Contains(address)).Gateway ?? "";
        }
        return new NetAddress { Ipnet = ip.Address, Gateway = gateway };
    }
}
