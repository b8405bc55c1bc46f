using System.Net;
using Porter.Server.Attachments;
using Xunit;

namespace Porter.Tests.Server.Attachments;

public sealed class IpPrefixTests
{
    [Theory]
    [InlineData("192.168.1.0/24", "192.168.1.200", true, 24)]
    [InlineData("192.168.1.0/24", "192.168.1.0", true, 24)]
    [InlineData("192.168.1.0/24", "192.168.2.1", false, 24)]
    [InlineData("10.0.0.0/8", "10.255.255.255", true, 8)]
    [InlineData("10.0.0.0/8", "11.0.0.0", false, 8)]
    [InlineData("192.168.1.0/25", "192.168.1.127", true, 25)]
    [InlineData("192.168.1.0/25", "192.168.1.128", false, 25)]
    [InlineData("192.168.1.128/26", "192.168.1.191", true, 26)]
    [InlineData("192.168.1.128/26", "192.168.1.192", false, 26)]
    [InlineData("192.168.1.5/32", "192.168.1.5", true, 32)]
    [InlineData("192.168.1.5/32", "192.168.1.4", false, 32)]
    [InlineData("192.168.1.77/24", "192.168.1.5", true, 24)]  // host bits in the prefix are ignored
    [InlineData("0.0.0.0/0", "203.0.113.9", true, 0)]
    [InlineData("fd00::/64", "fd00::1", true, 64)]
    [InlineData("fd00::/64", "fd00:0:0:1::1", false, 64)]
    [InlineData("fc00::/7", "fd12:3456::1", true, 7)]
    [InlineData("fc00::/7", "fe80::1", false, 7)]
    [InlineData("2001:db8::/127", "2001:db8::1", true, 127)]
    [InlineData("2001:db8::/128", "2001:db8::1", false, 128)]
    [InlineData("::/0", "2001:db8::1", true, 0)]
    public void Contains_compares_the_prefix_bits(string cidr, string address, bool expected, int prefix)
    {
        Assert.Equal(expected, IpPrefix.Contains(cidr, IPAddress.Parse(address), out var parsedPrefix));
        Assert.Equal(prefix, parsedPrefix);
    }

    [Theory]
    [InlineData("0.0.0.0/0", "::1")]
    [InlineData("::/0", "192.168.1.1")]
    [InlineData("192.168.1.0/24", "::ffff:192.168.1.5")]
    [InlineData("::ffff:0:0/96", "192.168.1.5")]
    public void Contains_is_false_across_address_families(string cidr, string address)
    {
        Assert.False(IpPrefix.Contains(cidr, IPAddress.Parse(address), out _));
    }

    [Theory]
    [InlineData("192.168.1.0")]
    [InlineData("192.168.1.0/33")]
    [InlineData("fd00::/129")]
    [InlineData("/24")]
    [InlineData("x/24")]
    [InlineData("1.2.3.4/-1")]
    [InlineData("1.2.3.4/ 24")]
    [InlineData("1.2.3.4/")]
    [InlineData("")]
    public void Invalid_prefixes_contain_nothing(string cidr)
    {
        Assert.False(IpPrefix.TryParse(cidr, out _, out _));
        Assert.False(IpPrefix.Contains(cidr, IPAddress.Parse("1.2.3.4"), out _));
    }

    [Fact]
    public void TryParse_returns_address_and_length()
    {
        Assert.True(IpPrefix.TryParse("10.1.2.0/23", out var network, out var prefix));
        Assert.Equal(IPAddress.Parse("10.1.2.0"), network);
        Assert.Equal(23, prefix);
    }
}
