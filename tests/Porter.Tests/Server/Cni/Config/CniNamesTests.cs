using Porter.Server.Cni.Config;
using Xunit;

namespace Porter.Tests.Server.Cni.Config;

public sealed class CniNamesTests
{
    [Theory]
    [InlineData("a", true)]
    [InlineData("0abc", true)]
    [InlineData("macvlan-dhcp_1.x", true)]
    [InlineData("", false)]
    [InlineData("-a", false)]
    [InlineData("_a", false)]
    [InlineData(".a", false)]
    [InlineData("a b", false)]
    [InlineData("a;b", false)]
    [InlineData("a=b", false)]
    [InlineData("a/b", false)]
    [InlineData("ä", false)]
    [InlineData("a\n", false)]
    public void IsValidIdentifier_follows_the_CNI_pattern(string value, bool valid)
    {
        Assert.Equal(valid, CniNames.IsValidIdentifier(value));
    }

    [Theory]
    [InlineData("macvlan", true)]
    [InlineData("host-local", true)]
    [InlineData("..", false)]
    [InlineData("../bridge", false)]
    [InlineData("a/b", false)]
    public void IsValidPluginType_allows_file_names_only(string type, bool valid)
    {
        Assert.Equal(valid, CniNames.IsValidPluginType(type));
    }

    [Fact]
    public void ValidateNetworkName_explains_the_problem()
    {
        Assert.Null(CniNames.ValidateNetworkName("lan", 10));
        Assert.Equal("the name is empty", CniNames.ValidateNetworkName("", 10));
        Assert.Equal("the name is 11 characters long; at most 10 are allowed", CniNames.ValidateNetworkName("abcdefghijk", 10));
    }

    [Theory]
    [InlineData("eth0")]
    [InlineData("abcdefghijklmno")] // 15 bytes
    [InlineData("veth-x_y.1")]
    public void ValidateInterfaceName_accepts_kernel_names(string name)
    {
        Assert.Null(CniNames.ValidateInterfaceName(name));
    }

    [Fact]
    public void ValidateInterfaceName_counts_bytes_not_characters()
    {
        Assert.Equal("interface name 'ééééééééé' is longer than 15 bytes", CniNames.ValidateInterfaceName("ééééééééé"));
        Assert.Equal(
            "interface name 'é' contains a character that is not allowed ('/', ':', whitespace, control or non-ASCII)",
            CniNames.ValidateInterfaceName("é"));
    }
}
