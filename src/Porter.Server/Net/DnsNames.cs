namespace Porter.Server.Net;

/// <summary>Names that end up in a container's resolv.conf ("search a b").</summary>
public static class DnsNames
{
    /// <summary>
    /// Whether a name may go into resolv.conf: letters, digits, '-' and '_' in dot-separated labels of 1-63
    /// characters, 253 at most. Names come from the LAN (anyone can answer a DHCPINFORM) and from CNI results; one
    /// with a space or a newline would add domains or whole lines of someone else's choosing, so such names are left out.
    /// </summary>
    public static bool IsValid(string name) =>
        name.Length is > 0 and <= 253 &&
        name.TrimEnd('.').Split('.').All(label => label.Length is > 0 and <= 63 && label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));
}
