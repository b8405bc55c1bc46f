using System.Net;
using System.Text;
using Porter.Server.Authorization;
using Porter.Server.Configuration;
using Porter.Server.Identity;
using Porter.Server.Json;
using Xunit;

namespace Porter.Tests.Server.Configuration;

/// <summary>Grant objects with address bounds, per-user sockets and limits in config.json; and how grants combine.</summary>
public sealed class ConfigLoaderGrantTests
{
    private static ServerConfig Parse(string json) => ConfigLoader.Parse("/etc/net-porter/config.json", Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Grant_objects_bound_static_addresses_and_plain_names_allow_none()
    {
        var config = Parse("""
            { "resources": [{
                "name": "lan",
                "allow_users": ["alice", { "user": "bob", "ips": ["192.168.1.64/28", "192.168.1.5"], "macs": ["02:42:c0:a8:00:00/40"] }],
                "allow_groups": [{ "group": 1500, "ips": ["fd00::/64"] }]
            }] }
            """);
        var lan = config.Resources.Single();

        Assert.Equal(Grant.Of(new Principal("alice", null)), lan.AllowUsers[0] with { Ips = [], Macs = [] });
        Assert.True(lan.AllowUsers[0].Ips.IsEmpty && lan.AllowUsers[0].Macs.IsEmpty);
        Assert.Equal(new Principal("bob", null), lan.AllowUsers[1].Principal);
        Assert.Equal(["192.168.1.64/28", "192.168.1.5"], lan.AllowUsers[1].Ips.Select(r => r.Text));
        Assert.Equal(["02:42:c0:a8:00:00/40"], lan.AllowUsers[1].Macs.Select(r => r.Text));
        Assert.Equal(new Principal(null, 1500), lan.AllowGroups[0].Principal);
        Assert.Equal("bob (ips: 192.168.1.64/28, 192.168.1.5; macs: 02:42:c0:a8:00:00/40)", lan.AllowUsers[1].ToString());
    }

    [Theory]
    [InlineData("""{ "resources": [{ "name": "lan", "allow_users": [{ "ips": [] }] }] }""", "1:50: resources[0].allow_users[0]: a grant object needs \"user\"")]
    [InlineData("""{ "resources": [{ "name": "lan", "allow_users": [{ "group": "x" }] }] }""", "1:61: resources[0].allow_users[0].group: unknown key 'group' (known keys: user, ips, macs)")]
    [InlineData("""{ "resources": [{ "name": "lan", "allow_groups": [{ "group": "g", "ips": ["10.0.0.1/8"] }] }] }""", "1:75: resources[0].allow_groups[0].ips[0]: '10.0.0.1/8' has host bits set (did you mean 10.0.0.0/8?)")]
    [InlineData("""{ "resources": [{ "name": "lan", "allow_users": [{ "user": "u", "macs": ["x"] }] }] }""", "1:74: resources[0].allow_users[0].macs[0]: 'x' is not a MAC address, a MAC range (a-b) or a MAC prefix (aa:bb:cc:00:00:00/24)")]
    public void Bad_grant_objects_are_located(string json, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => Parse(json));
        Assert.Equal($"/etc/net-porter/config.json:{expected}", e.Message);
    }

    [Fact]
    public void User_sockets_and_limits_have_defaults_and_can_be_set()
    {
        var defaults = Parse("{}");
        Assert.Equal(new UserSocketsConfig(true, "/run/user"), defaults.UserSockets);
        Assert.Equal(new LimitsConfig(32, 8, 256), defaults.Limits);

        var set = Parse("""
            { "user_sockets": { "enabled": false, "runtime_dir": "users" },
              "limits": { "connections_per_user": 4, "concurrent_requests_per_user": 2, "attachments_per_user": 10 } }
            """);
        Assert.Equal(new UserSocketsConfig(false, "/etc/net-porter/users"), set.UserSockets);
        Assert.Equal(new LimitsConfig(4, 2, 10), set.Limits);

        var e = Assert.Throws<ConfigException>(() => Parse("""{ "limits": { "connections_per_user": 0 } }"""));
        Assert.Equal("/etc/net-porter/config.json:1:39: limits.connections_per_user: expected a whole number from 1 to 100000, found 0", e.Message);
    }

    [Fact]
    public void A_callers_address_bounds_are_the_union_of_every_grant_that_matches()
    {
        var config = Parse("""
            { "resources": [{
                "name": "lan",
                "allow_users": [{ "user": "alice", "ips": ["10.0.0.1"] }, { "user": 1000, "ips": ["10.0.0.2"], "macs": ["02:00:00:00:00:01"] }],
                "allow_groups": [{ "group": "netusers", "ips": ["10.0.0.3"] }, { "group": "others", "ips": ["10.0.0.4"] }]
            }] }
            """);
        var alice = new CallerIdentity(1000, 1000, 1, "alice", [new GroupEntry(1000, "alice"), new GroupEntry(1500, "netusers")]);

        var decision = AccessPolicy.Decide(config.Resources[0], alice);

        Assert.True(decision.Allowed);
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3"], decision.Ips.Select(r => r.Text));
        Assert.Equal(["02:00:00:00:00:01"], decision.Macs.Select(r => r.Text));
        Assert.DoesNotContain(decision.Ips, r => r.Contains(IPAddress.Parse("10.0.0.4")));
    }
}
