using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Porter.Server.Net;

/// <summary>
/// Addresses as people and podman write them, parsed strictly: IPAddress.TryParse also takes "10.1", "010.0.0.1"
/// (octal) or "1.2.3.4%eth0", which a grant or a request must not mean by accident.
/// </summary>
public static partial class IpAddresses
{
    public static bool TryParse(string text, out IPAddress address)
    {
        address = IPAddress.None;
        var ok = text.Contains(':')
            ? !text.Contains('%') && !text.Contains('/') && IPAddress.TryParse(text, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6
            : DottedQuad().IsMatch(text);
        if (ok)
        {
            address = IPAddress.Parse(text);
        }
        return ok;
    }

    /// <summary>Four decimal octets 0-255 without leading zeros (\z, not $: $ would also match before a trailing newline).</summary>
    [GeneratedRegex(@"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}\z")]
    private static partial Regex DottedQuad();
}
