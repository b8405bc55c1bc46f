using System.Net;
using System.Net.Sockets;
using System.Numerics;
using Porter.Server.Attachments;

namespace Porter.Server.Authorization;

/// <summary>
/// An inclusive range of addresses of one family, written as "192.168.1.64/28", "192.168.1.50-192.168.1.59" or a
/// single address. Used in ACL grants to bound the static IPs a user may request.
/// </summary>
public sealed record IpRange(IPAddress First, IPAddress Last, string Text)
{
    public static bool TryParse(string text, out IpRange range, out string problem)
    {
        range = null!;
        problem = "";
        if (text.Contains('/'))
        {
            if (!IpPrefix.TryParse(text, out var network, out var prefix))
            {
                problem = $"'{text}' is not a valid CIDR block";
                return false;
            }
            var bits = network.GetAddressBytes().Length * 8;
            var value = ToNumber(network);
            var hostMask = prefix == bits ? BigInteger.Zero : (BigInteger.One << (bits - prefix)) - 1;
            if ((value & hostMask) != 0)
            {
                problem = $"'{text}' has host bits set (did you mean {FromNumber(value & ~hostMask, network.AddressFamily)}/{prefix}?)";
                return false;
            }
            range = new IpRange(network, FromNumber(value | hostMask, network.AddressFamily), text);
            return true;
        }
        var dash = text.IndexOf('-');
        var firstText = dash < 0 ? text : text[..dash];
        var lastText = dash < 0 ? text : text[(dash + 1)..];
        if (!ParseAddress(firstText, out var first) || !ParseAddress(lastText, out var last))
        {
            problem = $"'{text}' is not an address, an address range (a-b) or a CIDR block";
            return false;
        }
        if (first.AddressFamily != last.AddressFamily || ToNumber(first) > ToNumber(last))
        {
            problem = $"'{text}' is not a range from a lower to a higher address of one family";
            return false;
        }
        range = new IpRange(first, last, text);
        return true;
    }

    public bool Contains(IPAddress address) =>
        address.AddressFamily == First.AddressFamily &&
        ToNumber(address) >= ToNumber(First) && ToNumber(address) <= ToNumber(Last);

    public override string ToString() => Text;

    private static bool ParseAddress(string text, out IPAddress address)
    {
        address = IPAddress.None;
        try
        {
            address = RequestValidator.StaticIp(text.Trim());
            return true;
        }
        catch (Grpc.Core.RpcException)
        {
            return false;
        }
    }

    private static BigInteger ToNumber(IPAddress address) => new(address.GetAddressBytes(), isUnsigned: true, isBigEndian: true);

    private static IPAddress FromNumber(BigInteger value, AddressFamily family)
    {
        var length = family == AddressFamily.InterNetwork ? 4 : 16;
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        var padded = new byte[length];
        Array.Copy(bytes, 0, padded, length - bytes.Length, bytes.Length);
        return new IPAddress(padded);
    }
}

/// <summary>An inclusive range of MAC addresses: "02:42:c0:a8:00:10", "02:42:c0:a8:00:00/40" (a prefix) or "a-b".</summary>
public sealed record MacRange(ulong First, ulong Last, string Text)
{
    public static bool TryParse(string text, out MacRange range, out string problem)
    {
        range = null!;
        problem = "";
        if (text.Contains('/'))
        {
            var slash = text.IndexOf('/');
            if (!TryParseMac(text[..slash], out var value) || !int.TryParse(text[(slash + 1)..], out var prefix) || prefix is < 0 or > 48)
            {
                problem = $"'{text}' is not a MAC prefix such as 02:42:c0:a8:00:00/40";
                return false;
            }
            var hostMask = prefix == 48 ? 0UL : (1UL << (48 - prefix)) - 1;
            if ((value & hostMask) != 0)
            {
                problem = $"'{text}' has bits set beyond its prefix length";
                return false;
            }
            range = new MacRange(value, value | hostMask, text);
            return true;
        }
        var dash = text.IndexOf('-');
        if (!TryParseMac(dash < 0 ? text : text[..dash], out var first) || !TryParseMac(dash < 0 ? text : text[(dash + 1)..], out var last) || first > last)
        {
            problem = $"'{text}' is not a MAC address, a MAC range (a-b) or a MAC prefix (aa:bb:cc:00:00:00/24)";
            return false;
        }
        range = new MacRange(first, last, text);
        return true;
    }

    public bool Contains(string mac) => TryParseMac(mac, out var value) && value >= First && value <= Last;

    public override string ToString() => Text;

    public static bool TryParseMac(string text, out ulong value)
    {
        value = 0;
        var parts = text.Trim().Split(':');
        if (parts.Length != 6)
        {
            return false;
        }
        foreach (var part in parts)
        {
            if (part.Length != 2 || !byte.TryParse(part, System.Globalization.NumberStyles.AllowHexSpecifier, null, out var b))
            {
                return false;
            }
            value = (value << 8) | b;
        }
        return true;
    }
}
