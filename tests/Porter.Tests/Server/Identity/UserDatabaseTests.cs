using Porter.Server.Identity;
using Xunit;

namespace Porter.Tests.Server.Identity;

/// <summary>The user database as the server reads it: through NSS, on this machine's own passwd and group.</summary>
public sealed class UserDatabaseTests
{
    private readonly UserDatabase _users = new();

    [Fact]
    public void Root_is_found_by_uid_and_by_name()
    {
        var byUid = _users.GetUser(0);
        Assert.NotNull(byUid);
        Assert.Equal("root", byUid.Name);
        Assert.Equal(0u, byUid.Gid);
        Assert.Equal(byUid, _users.GetUser("root"));
    }

    [Fact]
    public void Groups_are_found_by_gid_and_by_name()
    {
        var root = _users.GetGroup(0);
        Assert.NotNull(root);
        Assert.Equal("root", root.Name);
        Assert.Equal(root, _users.GetGroup("root"));
    }

    [Fact]
    public void Missing_users_and_groups_are_null_not_errors()
    {
        Assert.Null(_users.GetUser("npt-no-such-user-7f3a"));
        Assert.Null(_users.GetUser(4_000_000_000u));
        Assert.Null(_users.GetGroup("npt-no-such-group-7f3a"));
        Assert.Null(_users.GetGroup(4_000_000_000u));
    }

    [Fact]
    public void Memberships_include_the_primary_group_once()
    {
        var root = _users.GetUser(0)!;
        var groups = _users.GetMemberships(root);
        Assert.Single(groups, g => g.Gid == 0 && g.Name == "root");
    }
}
