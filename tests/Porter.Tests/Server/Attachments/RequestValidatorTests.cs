using System.Net;
using Grpc.Core;
using Porter.Server.Attachments;
using Xunit;

namespace Porter.Tests.Server.Attachments;

public sealed class RequestValidatorTests
{
    private const string IdRule = "may only contain letters, digits, '_', '.' and '-', starting with a letter or digit";
    private const string IfRule = "contains a character that is not allowed ('/', ':', whitespace, control or non-ASCII)";

    private static string Invalid(Action action)
    {
        var e = Assert.Throws<RpcException>(action);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        return e.Status.Detail;
    }

    [Theory]
    [InlineData("3f6b0e2c9a1d4e5f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f")]
    [InlineData("abc")]
    [InlineData("my_container.1-x")]
    public void Valid_container_ids_pass(string id)
    {
        Assert.Null(Record.Exception(() => RequestValidator.ContainerId(id)));
    }

    [Fact]
    public void A_container_id_may_have_128_characters()
    {
        Assert.Null(Record.Exception(() => RequestValidator.ContainerId(new string('a', 128))));
        Assert.Equal("container_id is 129 characters long; at most 128 are allowed", Invalid(() => RequestValidator.ContainerId(new string('a', 129))));
    }

    [Theory]
    [InlineData("abc;rm", "container_id 'abc;rm' " + IdRule)]
    [InlineData("a=b", "container_id 'a=b' " + IdRule)]
    [InlineData("abc\n", "container_id 'abc\\u000a' " + IdRule)]
    [InlineData("-abc", "container_id '-abc' " + IdRule)]
    [InlineData("../../etc", "container_id '../../etc' " + IdRule)]
    [InlineData("", "container_id is empty")]
    public void Invalid_container_ids_are_refused(string id, string message)
    {
        Assert.Equal(message, Invalid(() => RequestValidator.ContainerId(id)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("web")]
    [InlineData("web-1.prod_x")]
    public void Valid_container_names_pass(string name)
    {
        Assert.Null(Record.Exception(() => RequestValidator.ContainerName(name)));
    }

    [Theory]
    [InlineData("a;b", "container_name 'a;b' " + IdRule)]
    [InlineData("a=b", "container_name 'a=b' " + IdRule)]
    [InlineData("a b", "container_name 'a b' " + IdRule)]
    [InlineData("_web", "container_name '_web' " + IdRule)]
    public void Invalid_container_names_are_refused(string name, string message)
    {
        Assert.Equal(message, Invalid(() => RequestValidator.ContainerName(name)));
    }

    [Fact]
    public void A_container_name_may_have_253_characters()
    {
        Assert.Null(Record.Exception(() => RequestValidator.ContainerName(new string('n', 253))));
        Assert.Equal("container_name is 254 characters long; at most 253 are allowed", Invalid(() => RequestValidator.ContainerName(new string('n', 254))));
    }

    [Theory]
    [InlineData("eth0")]
    [InlineData("abcdefghijklmno")]
    [InlineData("net-porter.1")]
    public void Valid_interface_names_pass(string name)
    {
        Assert.Null(Record.Exception(() => RequestValidator.InterfaceName(name)));
    }

    [Theory]
    [InlineData("abcdefghijklmnop", "interface_name: interface name 'abcdefghijklmnop' is longer than 15 bytes")]
    [InlineData("a/b", "interface_name: interface name 'a/b' " + IfRule)]
    [InlineData("a:b", "interface_name: interface name 'a:b' " + IfRule)]
    [InlineData("a b", "interface_name: interface name 'a b' " + IfRule)]
    [InlineData("\n", "interface_name: interface name '\\u000a' " + IfRule)]
    [InlineData("eth0\t", "interface_name: interface name 'eth0\\u0009' " + IfRule)]
    [InlineData("ä", "interface_name: interface name 'ä' " + IfRule)]
    [InlineData(".", "interface_name: interface name '.' is not allowed")]
    [InlineData("..", "interface_name: interface name '..' is not allowed")]
    [InlineData("", "interface_name: the interface name is empty")]
    public void Invalid_interface_names_are_refused(string name, string message)
    {
        Assert.Equal(message, Invalid(() => RequestValidator.InterfaceName(name)));
    }

    [Theory]
    [InlineData("192.168.1.50", "192.168.1.50")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("::1", "::1")]
    [InlineData("fd00::5", "fd00::5")]
    [InlineData("FD00:0:0::5", "fd00::5")]
    [InlineData("::ffff:192.168.1.1", "::ffff:192.168.1.1")]
    public void Bare_addresses_are_static_ips(string text, string expected)
    {
        Assert.Equal(IPAddress.Parse(expected), RequestValidator.StaticIp(text));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4/24")]
    [InlineData("256.1.1.1")]
    [InlineData("0x1.1.1.1")]
    [InlineData("1.2.3.4 ")]
    [InlineData("1.2.3.4\n")]
    [InlineData("fe80::1%eth0")]
    [InlineData("fd00::/64")]
    [InlineData("fd00::5/64")]
    [InlineData("localhost")]
    [InlineData("")]
    public void Anything_else_is_not_a_static_ip(string text)
    {
        var message = Invalid(() => RequestValidator.StaticIp(text));
        Assert.Equal($"static_ips: {Porter.Server.Cni.Config.CniNames.Quote(text)} is not an IP address", message);
    }

    [Theory]
    [InlineData("010.1.1.1")]
    [InlineData("192.168.001.010")]
    public void A_dotted_quad_with_an_octal_looking_part_is_refused(string text)
    {
        Assert.Equal($"static_ips: '{text}' is not an IP address", Invalid(() => RequestValidator.StaticIp(text)));
    }

    [Theory]
    [InlineData("aa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:ff")]
    [InlineData("02:42:AC:11:00:02", "02:42:ac:11:00:02")]
    [InlineData("AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff")]
    [InlineData("00:00:00:00:00:01", "00:00:00:00:00:01")]
    public void A_unicast_mac_is_accepted_in_lowercase(string text, string expected)
    {
        Assert.Equal(expected, RequestValidator.StaticMac(text));
    }

    [Theory]
    [InlineData("01:00:5e:00:00:01", "static_mac: 01:00:5e:00:00:01 is a multicast address")]
    [InlineData("ff:ff:ff:ff:ff:ff", "static_mac: ff:ff:ff:ff:ff:ff is a multicast address")]
    [InlineData("33:33:00:00:00:01", "static_mac: 33:33:00:00:00:01 is a multicast address")]
    [InlineData("00:00:00:00:00:00", "static_mac: 00:00:00:00:00:00 is not a usable address")]
    [InlineData("aa-bb-cc-dd-ee-ff", "static_mac: 'aa-bb-cc-dd-ee-ff' is not a MAC address (expected aa:bb:cc:dd:ee:ff)")]
    [InlineData("aa:bb:cc:dd:ee", "static_mac: 'aa:bb:cc:dd:ee' is not a MAC address (expected aa:bb:cc:dd:ee:ff)")]
    [InlineData("aa:bb:cc:dd:ee:ff:00", "static_mac: 'aa:bb:cc:dd:ee:ff:00' is not a MAC address (expected aa:bb:cc:dd:ee:ff)")]
    [InlineData("gg:bb:cc:dd:ee:ff", "static_mac: 'gg:bb:cc:dd:ee:ff' is not a MAC address (expected aa:bb:cc:dd:ee:ff)")]
    [InlineData("a:b:c:d:e:f", "static_mac: 'a:b:c:d:e:f' is not a MAC address (expected aa:bb:cc:dd:ee:ff)")]
    [InlineData("aabbccddeeff", "static_mac: 'aabbccddeeff' is not a MAC address (expected aa:bb:cc:dd:ee:ff)")]
    public void Other_macs_are_refused(string text, string message)
    {
        Assert.Equal(message, Invalid(() => RequestValidator.StaticMac(text)));
    }

    [Fact]
    public void A_mac_with_a_trailing_newline_is_refused()
    {
        Assert.Equal(
            "static_mac: 'aa:bb:cc:dd:ee:ff\\u000a' is not a MAC address (expected aa:bb:cc:dd:ee:ff)",
            Invalid(() => RequestValidator.StaticMac("aa:bb:cc:dd:ee:ff\n")));
    }

    [Theory]
    [InlineData("../x", "resource: '../x' is not a valid name: use letters, digits, '_', '.' and '-', starting with a letter or digit")]
    [InlineData("", "resource: the name is empty")]
    public void Invalid_resource_names_are_refused(string resource, string message)
    {
        Assert.Equal(message, Invalid(() => RequestValidator.Resource(resource)));
    }
}
