using Porter.Server.Namespaces;
using Xunit;

namespace Porter.Tests.Server.Namespaces;

public sealed class NetnsLivenessTests
{
    [Fact]
    public void A_network_namespace_bind_mount_is_read_from_its_mountinfo_line()
    {
        Assert.Equal((4026532326UL, "/run/netns/web"),
            NetnsLiveness.ParseNsfsMount("180 44 0:4 net:[4026532326] /run/netns/web rw shared:115 - nsfs nsfs rw"));
        // Optional fields before the separator vary in number; paths with spaces are octal-escaped.
        Assert.Equal((4026532400UL, "/run/user/1000/netns/my ns"),
            NetnsLiveness.ParseNsfsMount("201 30 0:4 net:[4026532400] /run/user/1000/netns/my\\040ns rw,nosuid - nsfs nsfs rw"));
    }

    [Theory]
    [InlineData("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue")]
    [InlineData("182 44 0:4 mnt:[4026532500] /run/mntns rw - nsfs nsfs rw")]
    [InlineData("183 44 0:4 net:[notanumber] /run/netns/x rw - nsfs nsfs rw")]
    [InlineData("garbage")]
    public void Other_mounts_and_other_namespace_types_are_not_network_namespace_mounts(string line)
    {
        Assert.Null(NetnsLiveness.ParseNsfsMount(line));
    }

    [Fact]
    public void This_process_sees_no_mount_of_an_inode_that_no_namespace_has()
    {
        Assert.DoesNotContain(ulong.MaxValue - 7, NetnsLiveness.InodesMounted("/nonexistent"));
    }
}
