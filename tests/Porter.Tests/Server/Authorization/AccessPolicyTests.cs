using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Porter.Server.Authorization;
using Porter.Server.Configuration;
using Porter.Server.Identity;
using Xunit;

namespace Porter.Tests.Server.Authorization;

public sealed class AccessPolicyTests
{
    private static readonly CallerIdentity Alice = new(1000, 1000, 4242, "alice",
        [new GroupEntry(1000, "alice"), new GroupEntry(1500, "netusers")]);

    private static ResourceConfig Resource(string name = "lan", Principal[]? users = null, Principal[]? groups = null) =>
        new(name, [.. (users ?? []).Select(Grant.Of)], [.. (groups ?? []).Select(Grant.Of)]);

    private static void AssertDecision(AccessDecision decision, bool allowed, string reason)
    {
        Assert.Equal(allowed, decision.Allowed);
        Assert.Equal(reason, decision.Reason);
    }

    [Fact]
    public void A_user_listed_by_name_is_allowed()
    {
        var decision = AccessPolicy.Decide(Resource(users: [new Principal("alice", null)]), Alice);
        AssertDecision(decision, true, "alice (uid 1000) is listed in allow_users of 'lan'");
    }

    [Fact]
    public void A_user_listed_by_uid_is_allowed()
    {
        var decision = AccessPolicy.Decide(Resource(users: [new Principal(null, 1000)]), Alice);
        AssertDecision(decision, true, "alice (uid 1000) is listed in allow_users of 'lan'");
    }

    [Fact]
    public void A_member_of_a_group_listed_by_name_is_allowed()
    {
        var decision = AccessPolicy.Decide(Resource(groups: [new Principal("netusers", null)]), Alice);
        AssertDecision(decision, true, "alice (uid 1000) is in group 'netusers', listed in allow_groups of 'lan'");
    }

    [Fact]
    public void A_member_of_a_group_listed_by_gid_is_allowed()
    {
        var decision = AccessPolicy.Decide(Resource(groups: [new Principal(null, 1500)]), Alice);
        AssertDecision(decision, true, "alice (uid 1000) is in group '1500', listed in allow_groups of 'lan'");
    }

    [Fact]
    public void Everyone_else_is_denied_by_default()
    {
        var resource = Resource(users: [new Principal("bob", null), new Principal(null, 1001)], groups: [new Principal("wheel", null), new Principal(null, 10)]);

        var decision = AccessPolicy.Decide(resource, Alice);

        AssertDecision(decision, false, "alice (uid 1000) may not use resource 'lan': neither the user nor any of their groups is granted it");
    }

    [Fact]
    public void An_empty_resource_grants_nobody()
    {
        Assert.False(AccessPolicy.Decide(Resource(), Alice).Allowed);
    }

    [Fact]
    public void A_uid_without_a_user_entry_is_named_by_number()
    {
        var stranger = new CallerIdentity(1234, 1234, 1, "", []);
        Assert.Equal("uid 1234 may not use resource 'lan': neither the user nor any of their groups is granted it",
            AccessPolicy.Decide(Resource(users: [new Principal("alice", null)]), stranger).Reason);
        Assert.Equal("uid 1234 is listed in allow_users of 'lan'",
            AccessPolicy.Decide(Resource(users: [new Principal(null, 1234)]), stranger).Reason);
    }

    [Fact]
    public void Root_is_not_special()
    {
        var root = new CallerIdentity(0, 0, 1, "root", [new GroupEntry(0, "root")]);
        Assert.True(root.IsRoot);

        var decision = AccessPolicy.Decide(Resource(users: [new Principal("alice", null)], groups: [new Principal("netusers", null)]), root);

        AssertDecision(decision, false, "root (uid 0) may not use resource 'lan': neither the user nor any of their groups is granted it");
    }

    [Fact]
    public void The_primary_gid_alone_does_not_count_only_the_group_list_does()
    {
        // Groups come from the user database; a gid that is not in that list grants nothing.
        var caller = new CallerIdentity(1000, 2000, 1, "alice", [new GroupEntry(1000, "alice")]);
        Assert.False(AccessPolicy.Decide(Resource(groups: [new Principal(null, 2000)]), caller).Allowed);
    }

    [Fact]
    public void A_group_without_a_name_cannot_match_by_name()
    {
        var caller = new CallerIdentity(1000, 1000, 1, "alice", [new GroupEntry(3000, "")]);
        Assert.False(AccessPolicy.Decide(Resource(groups: [new Principal("", null)]), caller).Allowed);
        Assert.True(AccessPolicy.Decide(Resource(groups: [new Principal(null, 3000)]), caller).Allowed);
    }

    [Fact]
    public void Names_are_case_sensitive()
    {
        Assert.False(AccessPolicy.Decide(Resource(users: [new Principal("Alice", null)]), Alice).Allowed);
    }

    [Fact]
    public void GrantedResources_are_the_allowed_ones_sorted_by_name()
    {
        var config = new ServerConfig
        {
            SourcePath = "/etc/net-porter/config.json",
            DomainSocket = new DomainSocketConfig("/run/net-porter.sock", "root", "root", 432),
            UserSockets = new UserSocketsConfig(true, "/run/user"),
            GcInterval = TimeSpan.FromMinutes(1),
            Dhcp = DhcpConfig.Default,
            Limits = LimitsConfig.Default,
            Resources =
            [
                Resource("zeta", users: [new Principal("alice", null)]),
                Resource("mid", users: [new Principal("bob", null)]),
                Resource("Alpha", groups: [new Principal(null, 1500)]),
                Resource("alpha", groups: [new Principal("netusers", null)]),
            ],
            Log = new LogConfig(LogLevel.Information, false),
            CniDir = "/etc/net-porter/cni.d",
            CniPluginDir = "/usr/lib/cni",
            StateDir = "/var/lib/net-porter",
            PluginTimeout = TimeSpan.FromSeconds(60),
        };

        Assert.Equal(["Alpha", "alpha", "zeta"], AccessPolicy.GrantedResources(config, Alice));
        Assert.Empty(AccessPolicy.GrantedResources(config, new CallerIdentity(7, 7, 1, "nobody", ImmutableArray<GroupEntry>.Empty)));
    }
}
