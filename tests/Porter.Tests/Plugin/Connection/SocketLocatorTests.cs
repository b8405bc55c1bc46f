using Porter.Plugin;
using Porter.Plugin.Connection;
using Xunit;

namespace Porter.Tests.Plugin.Connection;

public sealed class SocketLocatorTests
{
    [Fact]
    public void Candidates_are_xdg_then_host_uid_then_the_main_socket()
    {
        Assert.Equal(["/tmp/xdg/net-porter.sock", "/run/user/1000/net-porter.sock", "/run/net-porter.sock"],
            SocketLocator.Candidates("/tmp/xdg", 1000));
    }

    [Fact]
    public void The_host_uid_path_is_not_repeated_when_xdg_is_it()
    {
        Assert.Equal(["/run/user/1000/net-porter.sock", "/run/net-porter.sock"], SocketLocator.Candidates("/run/user/1000", 1000));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("relative/dir")]
    public void A_missing_or_relative_xdg_dir_is_skipped(string? xdg)
    {
        Assert.Equal(["/run/user/0/net-porter.sock", "/run/net-porter.sock"], SocketLocator.Candidates(xdg, 0));
        Assert.Equal(["/run/net-porter.sock"], SocketLocator.Candidates(xdg, null));
    }

    [Fact]
    public void An_explicit_socket_wins_without_looking()
    {
        Assert.Equal("/srv/porter.sock", SocketLocator.Locate("/srv/porter.sock", _ => throw new InvalidOperationException("looked"), "/tmp/xdg", 1000));
    }

    [Fact]
    public void The_xdg_socket_is_preferred()
    {
        Assert.Equal("/tmp/xdg/net-porter.sock", SocketLocator.Locate(null, _ => true, "/tmp/xdg", 1000));
    }

    [Fact]
    public void The_host_uid_socket_comes_next()
    {
        Assert.Equal("/run/user/1000/net-porter.sock",
            SocketLocator.Locate(null, p => p != "/tmp/xdg/net-porter.sock", "/tmp/xdg", 1000));
    }

    [Fact]
    public void The_main_socket_is_the_last_resort()
    {
        Assert.Equal("/run/net-porter.sock", SocketLocator.Locate(null, p => p == "/run/net-porter.sock", "/tmp/xdg", 1000));
    }

    [Fact]
    public void Nothing_found_lists_every_path_tried()
    {
        var tried = new List<string>();
        var e = Assert.Throws<PluginException>(() => SocketLocator.Locate(null, p => { tried.Add(p); return false; }, "/tmp/xdg", 1000));

        Assert.Equal(
            "no net-porter-server socket found (tried /tmp/xdg/net-porter.sock, /run/user/1000/net-porter.sock, /run/net-porter.sock): " +
            "is net-porter-server running, and is your user granted a resource? Or name the socket with -o socket=PATH",
            e.Message);
        Assert.Equal(["/tmp/xdg/net-porter.sock", "/run/user/1000/net-porter.sock", "/run/net-porter.sock"], tried);
    }

    [Theory]
    [InlineData("0 1000 1", 0u, 1000u)]
    [InlineData("         0       1000          1\n", 0u, 1000u)]
    [InlineData("0 0 4294967295", 1000u, 1000u)]
    [InlineData("0 0 4294967295", 0u, 0u)]
    [InlineData("0 1000 1\n1 100000 65536\n", 1u, 100000u)]
    [InlineData("0 1000 1\n1 100000 65536\n", 42u, 100041u)]
    [InlineData("0 1000 1\n1 100000 65536\n", 65536u, 165535u)]
    [InlineData("garbage\n0 1000 1", 0u, 1000u)]
    public void HostUid_maps_the_inside_uid_through_uid_map(string uidMap, uint inside, uint expected)
    {
        Assert.Equal(expected, SocketLocator.HostUid(uidMap, inside));
    }

    [Theory]
    [InlineData("0 1000 1", 1u)]
    [InlineData("0 1000 1\n1 100000 65536\n", 65537u)]
    [InlineData("", 0u)]
    [InlineData("0 1000", 0u)]
    [InlineData("a b c", 0u)]
    [InlineData("0 1000 0", 0u)]
    public void HostUid_is_null_when_no_line_maps_the_uid(string uidMap, uint inside)
    {
        Assert.Null(SocketLocator.HostUid(uidMap, inside));
    }
}
