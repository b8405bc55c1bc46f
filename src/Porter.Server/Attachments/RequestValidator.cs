using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Grpc.Core;
using Porter.Protocol;
using Porter.Server.Cni.Config;

namespace Porter.Server.Attachments;

/// <summary>
/// Checks every caller-supplied string before it can reach an environment variable, a file name or a plugin.
/// Failures are INVALID_ARGUMENT with the field named.
/// </summary>
public static partial class RequestValidator
{
    public const int MaxContainerIdLength = 128;
    public const int MaxContainerNameLength = 253;
    public const int MaxStaticIps = 16;
    /// <summary>Names under /run/netns are file names; systemd unit instance names bound them in practice.</summary>
    public const int MaxNetnsNameLength = 64;

    /// <summary>Setup and Attach take at most <see cref="MaxStaticIps"/> static addresses.</summary>
    public static void StaticIpCount(int count)
    {
        if (count > MaxStaticIps)
        {
            throw Invalid($"static_ips: {count} addresses given; at most {MaxStaticIps} are allowed");
        }
    }

    public static void Resource(string resource)
    {
        if (CniNames.ValidateNetworkName(resource, CniNames.MaxNetworkNameLength) is { } problem)
        {
            throw Invalid($"resource: {problem}");
        }
    }

    public static void ContainerId(string id)
    {
        if (id.Length == 0)
        {
            throw Invalid("container_id is empty");
        }
        if (id.Length > MaxContainerIdLength)
        {
            throw Invalid($"container_id is {id.Length} characters long; at most {MaxContainerIdLength} are allowed");
        }
        if (!CniNames.IsValidIdentifier(id))
        {
            throw Invalid($"container_id {CniNames.Quote(id)} may only contain letters, digits, '_', '.' and '-', starting with a letter or digit");
        }
    }

    /// <summary>Container names go into CNI_ARGS, where ';' and '=' would inject keys; podman's own rule forbids both.</summary>
    public static void ContainerName(string name)
    {
        if (name.Length == 0)
        {
            return;
        }
        if (name.Length > MaxContainerNameLength)
        {
            throw Invalid($"container_name is {name.Length} characters long; at most {MaxContainerNameLength} are allowed");
        }
        if (!CniNames.IsValidIdentifier(name))
        {
            throw Invalid($"container_name {CniNames.Quote(name)} may only contain letters, digits, '_', '.' and '-', starting with a letter or digit");
        }
    }

    /// <summary>A named namespace's name becomes a file name (/run/netns/NAME): no '/', no "..", bounded.</summary>
    public static void NetnsName(string name)
    {
        if (name.Length == 0)
        {
            throw Invalid("netns_name is empty");
        }
        if (name.Length > MaxNetnsNameLength)
        {
            throw Invalid($"netns_name is {name.Length} characters long; at most {MaxNetnsNameLength} are allowed");
        }
        if (!CniNames.IsValidIdentifier(name))
        {
            throw Invalid($"netns_name {CniNames.Quote(name)} may only contain letters, digits, '_', '.' and '-', starting with a letter or digit");
        }
    }

    /// <summary>
    /// Attach's addresses: bare, or with a prefix length ("192.168.1.70/24", which static IPAM needs). Returns the
    /// bare addresses and the subnets the prefixes name, which then play the part of a podman network's subnets.
    /// </summary>
    public static (List<string> Addresses, List<string> Subnets) AttachAddresses(IEnumerable<string> texts)
    {
        var addresses = new List<string>();
        var subnets = new List<string>();
        foreach (var text in texts)
        {
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            var ip = StaticIp(slash < 0 ? text : text[..slash]);
            addresses.Add(ip.ToString());
            if (slash < 0)
            {
                continue;
            }
            var max = ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            if (!int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix)
                || prefix > max || text.Length - slash - 1 > 3)
            {
                throw Invalid($"static_ips: {CniNames.Quote(text)} has no valid prefix length (0-{max})");
            }
            subnets.Add(Masked(ip, prefix));
        }
        return (addresses, subnets);
    }

    private static string Masked(IPAddress ip, int prefix)
    {
        var bytes = ip.GetAddressBytes();
        for (var bit = prefix; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }
        return $"{new IPAddress(bytes)}/{prefix}";
    }

    public static void InterfaceName(string name)
    {
        if (CniNames.ValidateInterfaceName(name) is { } problem)
        {
            throw Invalid($"interface_name: {problem}");
        }
    }

    /// <summary>
    /// A bare IPv4 (dotted quad) or IPv6 address, without prefix or zone. Leading zeros are refused, as Go's
    /// net.ParseIP (podman) does: .NET would read "010.1.1.1" as octal, i.e. 8.1.1.1.
    /// </summary>
    public static IPAddress StaticIp(string text) =>
        Net.IpAddresses.TryParse(text, out var address) ? address : throw Invalid($"static_ips: {CniNames.Quote(text)} is not an IP address");

    /// <summary>A unicast Ethernet address; multicast or all-zero MACs would break the LAN, not just the container.</summary>
    public static string StaticMac(string text)
    {
        if (!Mac().IsMatch(text))
        {
            throw Invalid($"static_mac: {CniNames.Quote(text)} is not a MAC address (expected aa:bb:cc:dd:ee:ff)");
        }
        var first = Convert.ToByte(text[..2], 16);
        if ((first & 1) != 0)
        {
            throw Invalid($"static_mac: {text} is a multicast address");
        }
        if (text.Replace(":", "", StringComparison.Ordinal).All(c => c == '0'))
        {
            throw Invalid("static_mac: 00:00:00:00:00:00 is not a usable address");
        }
        return text.ToLowerInvariant();
    }

    public static RpcException Invalid(string message) => RpcErrors.Of(StatusCode.InvalidArgument, message);

    // \z, not $: $ would also match before a trailing newline.
    [GeneratedRegex(@"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}\z")]
    private static partial Regex Mac();
}
