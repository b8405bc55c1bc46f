using System.Net;
using Porter.Protocol.V1;
using Porter.Server.Cni.Types;

namespace Porter.Server.Netavark;

/// <summary>
/// Converts a CNI result into netavark's StatusBlock the way podman's CNI backend did (CNIResultToStatus) and
/// netavark's macvlan driver reports: container-side interfaces keyed by name, each with its lowercase MAC and
/// the addresses that point at it; host-side interfaces (bridge, host veth) are left out.
/// </summary>
public static class StatusBlockBuilder
{
    public static StatusBlock Build(CniResult result, string ifName)
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
                net.Subnets.Add(ToAddress(ip));
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
                block.Interfaces[chosen[0].iface.Name].Subnets.AddRange(orphans.Select(ToAddress));
            }
        }

        block.DnsServerIps.AddRange(result.Dns.Nameservers.Where(n => IPAddress.TryParse(n, out _)));
        block.DnsSearchDomains.AddRange(result.Dns.Search);
        if (!string.IsNullOrEmpty(result.Dns.Domain) && !block.DnsSearchDomains.Contains(result.Dns.Domain))
        {
            block.DnsSearchDomains.Add(result.Dns.Domain);
        }
        return block;
    }

    private static NetAddress ToAddress(CniIpConfig ip) => new() { Ipnet = ip.Address, Gateway = ip.Gateway ?? "" };
}
