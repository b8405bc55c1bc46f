using System.Net;
using System.Net.Sockets;
using System.Numerics;


namespace Porter.Server.Net;

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
            // IPNetwork quietly clears host bits ("192.168.1.65/28" parses as .64/28): a grant that says .65 means a mistake.
            if (IPNetwork.TryParse(text, out var block) && IPAddress.TryParse(text.AsSpan(0, text.IndexOf('/')), out var written) && written.Equals(block.BaseAddress))
            {
                range = new IpRange(block.BaseAddress, FromNumber(ToNumber(block.BaseAddress) | HostMask(block.BaseAddress, block.PrefixLength), block.BaseAddress.AddressFamily), text);
                return true;
            }
            problem = HostBitsProblem(text) ?? $"'{text}' is not a valid CIDR block";
            return false;
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

    /// <summary>For "192.168.1.5/24" (host bits set), say what was probably meant.</summary>
    private static string? HostBitsProblem(string text)
    {
        var slash = text.IndexOf('/');
        if (!IPAddress.TryParse(text.AsSpan(0, slash), out var address) ||
            !int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix) ||
            prefix > address.GetAddressBytes().Length * 8)
        {
            return null;
        }
        var network = FromNumber(ToNumber(address) & ~HostMask(address, prefix), address.AddressFamily);
        return $"'{text}' has host bits set (did you mean {network}/{prefix}?)";
    }

    private static BigInteger HostMask(IPAddress address, int prefix)
    {
        var bits = address.GetAddressBytes().Length * 8;
        return prefix == bits ? BigInteger.Zero : (BigInteger.One << (bits - prefix)) - 1;
    }

    private static bool ParseAddress(string text, out IPAddress address) => Net.IpAddresses.TryParse(text.Trim(), out address);

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
            if (!TryParseMac(text[..slash], out var value) || !int.TryParse(text[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix) || prefix is < 0 or > 48)
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
