using System.Text;
using Porter.Plugin.Netavark;
using Porter.Protocol.V1;

namespace Porter.Plugin.Cli;

/// <summary>What attach (and netns up) print: the interfaces, their MAC and addresses, and the DNS settings.</summary>
public static class AttachOutput
{
    public static void Print(TextWriter stdout, StatusBlock status, string prefix = "")
    {
        foreach (var (name, iface) in status.Interfaces.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            stdout.WriteLine($"{prefix}{name}: mac {(iface.MacAddress.Length > 0 ? iface.MacAddress : "(none)")}");
            if (iface.Subnets.Count == 0)
            {
                stdout.WriteLine($"{prefix}  no address (the resource assigns none)");
            }
            foreach (var address in iface.Subnets)
            {
                stdout.WriteLine($"{prefix}  {address.Ipnet}{(address.Gateway.Length > 0 ? $" gateway {address.Gateway}" : "")}");
            }
        }
        if (status.DnsServerIps.Count > 0)
        {
            stdout.WriteLine($"{prefix}dns: {string.Join(' ', status.DnsServerIps)}{(status.DnsSearchDomains.Count > 0 ? $" (search {string.Join(' ', status.DnsSearchDomains)})" : "")}");
        }
    }

    /// <summary>--json: netavark's StatusBlock, as the plugin gives it to netavark.</summary>
    public static void PrintJson(TextWriter stdout, StatusBlock status) => stdout.WriteLine(Encoding.UTF8.GetString(PluginOutput.StatusBlock(status)));
}
