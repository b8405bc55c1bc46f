using Porter.Plugin;
using Porter.Plugin.Connection;
using Porter.Plugin.Netavark;
using Xunit;

namespace Porter.Tests.Plugin.Connection;

public sealed class NetworkOptionsTests
{
    private static Network Network(Dictionary<string, string>? options, string driver = "net-porter") =>
        new() { Name = "lan", Id = "0123", Driver = driver, Options = options };

    private static string Fails(Dictionary<string, string>? options, string driver = "net-porter") =>
        Assert.Throws<PluginException>(() => NetworkOptions.From(Network(options, driver))).Message;

    [Fact]
    public void resource_and_socket_are_read()
    {
        var options = NetworkOptions.From(Network(new() { ["resource"] = "macvlan-dhcp", ["socket"] = "/run/user/1000/net-porter.sock", ["mode"] = "x" }));
        Assert.Equal(new NetworkOptions("macvlan-dhcp", "/run/user/1000/net-porter.sock"), options);
    }

    [Fact]
    public void The_socket_is_optional()
    {
        Assert.Equal(new NetworkOptions("lan", null), NetworkOptions.From(Network(new() { ["resource"] = "lan" })));
    }

    [Fact]
    public void The_original_README_names_are_aliases()
    {
        var options = NetworkOptions.From(Network(new() { ["net_porter_resource"] = "macvlan-dhcp", ["net_porter_socket"] = "/run/net-porter.sock" }));
        Assert.Equal(new NetworkOptions("macvlan-dhcp", "/run/net-porter.sock"), options);
    }

    [Fact]
    public void A_name_and_its_alias_may_agree()
    {
        var options = NetworkOptions.From(Network(new() { ["resource"] = "lan", ["net_porter_resource"] = "lan" }));
        Assert.Equal("lan", options.Resource);
    }

    [Fact]
    public void A_name_and_its_alias_may_not_disagree()
    {
        Assert.Equal("options 'resource' (a) and 'net_porter_resource' (b) disagree; give only one",
            Fails(new() { ["resource"] = "a", ["net_porter_resource"] = "b" }));
        Assert.Equal("options 'socket' (/a.sock) and 'net_porter_socket' (/b.sock) disagree; give only one",
            Fails(new() { ["resource"] = "lan", ["socket"] = "/a.sock", ["net_porter_socket"] = "/b.sock" }));
    }

    [Fact]
    public void A_missing_resource_explains_how_to_create_the_network()
    {
        Assert.Equal("network 'lan' has no 'resource' option: create it with 'podman network create -d net-porter -o resource=<name> lan'",
            Fails(null));
        Assert.Equal("network 'lan' has no 'resource' option: create it with 'podman network create -d my-porter -o resource=<name> lan'",
            Fails(new() { ["socket"] = "/run/net-porter.sock" }, driver: "my-porter"));
        Assert.Equal("network 'lan' has no 'resource' option: create it with 'podman network create -d net-porter -o resource=<name> lan'",
            Fails(new(), driver: ""));
    }

    [Theory]
    [InlineData("net-porter.sock")]
    [InlineData("./net-porter.sock")]
    [InlineData("~/net-porter.sock")]
    public void A_relative_socket_is_refused(string socket)
    {
        Assert.Equal($"network 'lan': option 'socket' must be an absolute path, not '{socket}'",
            Fails(new() { ["resource"] = "lan", ["socket"] = socket }));
    }

    [Theory]
    [InlineData("resource", "resource")]
    [InlineData("net_porter_resource", "resource")]
    [InlineData("socket", "socket")]
    [InlineData("net_porter_socket", "socket")]
    public void An_empty_value_is_refused(string key, string named)
    {
        var options = new Dictionary<string, string> { ["resource"] = "lan", [key] = "" };
        if (key == "net_porter_resource")
        {
            options.Remove("resource");
        }
        Assert.Equal($"option '{named}' is empty", Fails(options));
    }
}
