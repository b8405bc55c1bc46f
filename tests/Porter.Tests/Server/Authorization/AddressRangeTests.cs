using System.Net;
using Porter.Server.Authorization;
using Porter.Server.Net;
using Xunit;

namespace Porter.Tests.Server.Authorization;

public sealed class AddressRangeTests
{
    [Theory]
    [InlineData("192.168.1.64/28", "192.168.1.64", "192.168.1.79")]
    [InlineData("192.168.1.50-192.168.1.59", "192.168.1.50", "192.168.1.59")]
    [InlineData("10.0.0.7", "10.0.0.7", "10.0.0.7")]
    [InlineData("0.0.0.0/0", "0.0.0.0", "255.255.255.255")]
    [InlineData("fd00::/64", "fd00::", "fd00::ffff:ffff:ffff:ffff")]
    [InlineData("fd00::10-fd00::20", "fd00::10", "fd00::20")]
    public void Ip_ranges_parse_to_their_first_and_last_address(string text, string first, string last)
    {
        Assert.True(IpRange.TryParse(text, out var range, out var problem), problem);
        Assert.Equal(IPAddress.Parse(first), range.First);
        Assert.Equal(IPAddress.Parse(last), range.Last);
        Assert.Equal(text, range.ToString());
    }

    [Theory]
    [InlineData("192.168.1.65/28", "'192.168.1.65/28' has host bits set (did you mean 192.168.1.64/28?)")]
    [InlineData("192.168.1.0/33", "'192.168.1.0/33' is not a valid CIDR block")]
    [InlineData("192.168.1.9-192.168.1.1", "'192.168.1.9-192.168.1.1' is not a range from a lower to a higher address of one family")]
    [InlineData("10.0.0.1-fd00::1", "'10.0.0.1-fd00::1' is not a range from a lower to a higher address of one family")]
    [InlineData("010.0.0.1", "'010.0.0.1' is not an address, an address range (a-b) or a CIDR block")]
    [InlineData("lan", "'lan' is not an address, an address range (a-b) or a CIDR block")]
    public void Bad_ip_ranges_say_what_is_wrong(string text, string expected)
    {
        Assert.False(IpRange.TryParse(text, out _, out var problem));
        Assert.Equal(expected, problem);
    }

    [Fact]
    public void Ip_ranges_contain_only_their_own_family_and_span()
    {
        Assert.True(IpRange.TryParse("192.168.1.64/28", out var v4, out _));
        Assert.True(v4.Contains(IPAddress.Parse("192.168.1.64")));
        Assert.True(v4.Contains(IPAddress.Parse("192.168.1.79")));
        Assert.False(v4.Contains(IPAddress.Parse("192.168.1.80")));
        Assert.False(v4.Contains(IPAddress.Parse("192.168.1.63")));
        Assert.False(v4.Contains(IPAddress.Parse("::ffff:192.168.1.70")));
    }

    [Theory]
    [InlineData("02:42:c0:a8:00:00/40", "02:42:c0:a8:00:00", "02:42:c0:a8:00:ff", "02:42:c0:a8:01:00")]
    [InlineData("02:00:00:00:00:10-02:00:00:00:00:20", "02:00:00:00:00:10", "02:00:00:00:00:20", "02:00:00:00:00:21")]
    [InlineData("02:00:00:00:00:01", "02:00:00:00:00:01", "02:00:00:00:00:01", "02:00:00:00:00:02")]
    public void Mac_ranges_contain_their_span_only(string text, string inside1, string inside2, string outside)
    {
        Assert.True(MacRange.TryParse(text, out var range, out var problem), problem);
        Assert.True(range.Contains(inside1));
        Assert.True(range.Contains(inside2.ToUpperInvariant()));
        Assert.False(range.Contains(outside));
        Assert.False(range.Contains("not-a-mac"));
    }

    [Theory]
    [InlineData("02:42:c0:a8:00:01/40", "'02:42:c0:a8:00:01/40' has bits set beyond its prefix length")]
    [InlineData("02:42:c0:a8:00:00/49", "'02:42:c0:a8:00:00/49' is not a MAC prefix such as 02:42:c0:a8:00:00/40")]
    [InlineData("02:42:c0:a8:00:00/+40", "'02:42:c0:a8:00:00/+40' is not a MAC prefix such as 02:42:c0:a8:00:00/40")]
    [InlineData("02:42:c0:a8:00:00/ 40", "'02:42:c0:a8:00:00/ 40' is not a MAC prefix such as 02:42:c0:a8:00:00/40")]
    [InlineData("02:00:00:00:00:20-02:00:00:00:00:10", "'02:00:00:00:00:20-02:00:00:00:00:10' is not a MAC address, a MAC range (a-b) or a MAC prefix (aa:bb:cc:00:00:00/24)")]
    [InlineData("2:42:c0:a8:0:1", "'2:42:c0:a8:0:1' is not a MAC address, a MAC range (a-b) or a MAC prefix (aa:bb:cc:00:00:00/24)")]
    public void Bad_mac_ranges_say_what_is_wrong(string text, string expected)
    {
        Assert.False(MacRange.TryParse(text, out _, out var problem));
        Assert.Equal(expected, problem);
    }
}
