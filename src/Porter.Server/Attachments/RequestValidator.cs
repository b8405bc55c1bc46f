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
