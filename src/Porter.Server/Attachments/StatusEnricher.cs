using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Porter.Protocol.V1;
using Porter.Server.Authorization;
using Porter.Server.Cni.Config;
using Porter.Server.Configuration;
using Porter.Server.Dhcp;
using Porter.Server.Drivers;
using Porter.Server.Namespaces;
using Porter.Server.Net;

namespace Porter.Server.Attachments;

/// <summary>
/// What the StatusBlock should say beyond the CNI result: the resource's own DNS settings from config.json, or else
/// those of a DHCP LAN (the CNI dhcp plugin drops them), and the IPv6 addresses the LAN's router advertisements configured (no plugin can know them).
/// </summary>
public sealed class StatusEnricher(ILogger<StatusEnricher> logger)
{
    public async Task EnrichAsync(StatusBlock status, ResourceConfig resource, NetworkConfigList network, NetworkKind kind, OpenedNetns netns,
        AttachmentKey key, CancellationToken cancellationToken)
    {
        if (!resource.Dns.Servers.IsEmpty)
        {
            // The administrator's choice for this resource stands over anything the plugins or the LAN report.
            status.DnsServerIps.Clear();
            status.DnsServerIps.AddRange(resource.Dns.Servers);
            status.DnsSearchDomains.Clear();
            status.DnsSearchDomains.AddRange(resource.Dns.Search);
        }
        else if (kind.Ipam.DnsFromLan && status.DnsServerIps.Count == 0)
        {
            await AddDhcpDnsAsync(status, netns, key, network).ConfigureAwait(false);
        }
        if (resource.SlaacWait > TimeSpan.Zero && status.Interfaces.TryGetValue(key.IfName, out var iface))
        {
            await SlaacProbe.AddAsync(iface, netns.ProcPath, key.IfName, resource.SlaacWait, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Asked for with DHCPINFORM from the leased address; best effort, nothing is added without an answer.</summary>
    private async Task AddDhcpDnsAsync(StatusBlock status, OpenedNetns netns, AttachmentKey key, NetworkConfigList network)
    {
        var (name, iface) = status.Interfaces.FirstOrDefault();
        var leased = iface?.Subnets
            .Select(s => IPAddress.TryParse(s.Ipnet.Split('/')[0], out var ip) ? ip : null)
            .FirstOrDefault(ip => ip?.AddressFamily == AddressFamily.InterNetwork);
        if (iface is null || leased is null || !MacRange.TryParseMac(iface.MacAddress, out var macValue))
        {
            return;
        }
        var mac = BitConverter.GetBytes(macValue).Take(6).Reverse().ToArray();
        try
        {
            // The client id the CNI dhcp daemon uses, so the server answers for the lease it handed out.
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var info = await DhcpInform.QueryAsync(netns.Handle, name, leased, mac,
                $"{key.ScopedContainerId}/{network.Name}/{key.IfName}", TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (info is null)
            {
                logger.LogDebug("{Key}: no answer to DHCPINFORM within {Ms:0} ms; no DNS settings from the LAN", key, elapsed);
                return;
            }
            logger.LogDebug("{Key}: DHCPINFORM answered in {Ms:0} ms", key, elapsed);
            status.DnsServerIps.AddRange(info.Servers);
            status.DnsSearchDomains.AddRange(info.SearchDomains.Where(d => !status.DnsSearchDomains.Contains(d)));
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            logger.LogDebug("{Key}: DHCPINFORM failed: {Error}", key, e.Message);
        }
    }
}
