using Grpc.Core;
using Porter.Server.Attachments;
using Xunit;

namespace Porter.Tests.Server.Attachments;

public sealed class AttachAddressesTests
{
    [Fact]
    public void Addresses_may_carry_a_prefix_which_names_their_subnet()
    {
        var (addresses, subnets) = RequestValidator.AttachAddresses(["192.168.1.70/24", "fd00:1::5/64", "10.0.0.9"]);

        Assert.Equal(["192.168.1.70", "fd00:1::5", "10.0.0.9"], addresses);
        Assert.Equal(["192.168.1.0/24", "fd00:1::/64"], subnets);
    }

    [Theory]
    [InlineData("192.168.1.70/33", "static_ips: '192.168.1.70/33' has no valid prefix length (0-32)")]
    [InlineData("192.168.1.70/", "static_ips: '192.168.1.70/' has no valid prefix length (0-32)")]
    [InlineData("192.168.1.70/+8", "static_ips: '192.168.1.70/+8' has no valid prefix length (0-32)")]
    [InlineData("fd00::1/129", "static_ips: 'fd00::1/129' has no valid prefix length (0-128)")]
    [InlineData("010.1.1.1/8", "static_ips: '010.1.1.1' is not an IP address")]
    public void A_malformed_address_or_prefix_is_refused_naming_it(string text, string message)
    {
        var e = Assert.Throws<RpcException>(() => RequestValidator.AttachAddresses([text]));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal(message, e.Status.Detail);
    }

    [Theory]
    [InlineData("web")]
    [InlineData("svc-1.lan_2")]
    public void Netns_names_are_safe_file_names(string name) => RequestValidator.NetnsName(name);

    [Theory]
    [InlineData("", "netns_name is empty")]
    [InlineData("..", "netns_name '..' may only contain letters, digits, '_', '.' and '-', starting with a letter or digit")]
    [InlineData("a/b", "netns_name 'a/b' may only contain letters, digits, '_', '.' and '-', starting with a letter or digit")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123456789", "netns_name is 70 characters long; at most 64 are allowed")]
    public void Other_netns_names_are_refused(string name, string message)
    {
        var e = Assert.Throws<RpcException>(() => RequestValidator.NetnsName(name));
        Assert.Equal(message, e.Status.Detail);
    }
}
