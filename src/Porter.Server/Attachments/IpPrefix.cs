using System.Globalization;
using System.Net;

namespace Porter.Server.Attachments;

/// <summary>Minimal CIDR arithmetic: does a subnet ("10.1.0.0/16", "fd00::/64") contain an address.</summary>
public static class IpPrefix
{
    public static bool TryParse(string cidr, out IPAddress network, out int prefix)
    {
        network = IPAddress.None;
        prefix = 0;
        var slash = cidr.IndexOf('/');
        if (slash <= 0 || !IPAddress.TryParse(cidr.AsSpan(0, slash), out var address) ||
            !int.TryParse(cidr.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix))
        {
            return false;
        }
        var bits = address.GetAddressBytes().Length * 8;
        if (prefix > bits)
        {
            return false;
        }
        network = address;
        return true;
    }

    public static bool Contains(string cidr, IPAddress address, out int prefix)
    {
        if (!TryParse(cidr, out var network, out prefix) || network.AddressFamily != address.AddressFamily)
        {
            return false;
        }
        var a = network.GetAddressBytes();
        var b = address.GetAddressBytes();
        var remaining = prefix;
        for (var i = 0; i < a.Length && remaining > 0; i++, remaining -= 8)
        {
            var mask = remaining >= 8 ? 0xFF : (byte)(0xFF << (8 - remaining));
            if ((a[i] & mask) != (b[i] & mask))
            {
                return false;
            }
        }
        return true;
    }
}
