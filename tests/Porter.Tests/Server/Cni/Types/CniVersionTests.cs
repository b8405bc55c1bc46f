using Porter.Server.Cni.Types;
using Xunit;

namespace Porter.Tests.Server.Cni.Types;

public sealed class CniVersionTests
{
    [Theory]
    [InlineData("1.0.0", 1, 0, 0)]
    [InlineData("0.4.0", 0, 4, 0)]
    [InlineData("0.3.1", 0, 3, 1)]
    [InlineData("1.1.0", 1, 1, 0)]
    [InlineData("10.20.3000", 10, 20, 3000)]
    public void TryParse_reads_three_numbers(string text, int major, int minor, int patch)
    {
        Assert.True(CniVersion.TryParse(text, out var version));
        Assert.Equal(new CniVersion(major, minor, patch), version);
        Assert.Equal($"{major}.{minor}.{patch}", version.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("1.0")]
    [InlineData("1")]
    [InlineData("1.0.0.0")]
    [InlineData("a.b.c")]
    [InlineData("1..0")]
    [InlineData("1.-1.0")]
    [InlineData("+1.0.0")]
    [InlineData(" 1.0.0")]
    [InlineData("1.0.0 ")]
    [InlineData("12345.0.0")]
    [InlineData("v1.0.0")]
    public void TryParse_refuses_what_is_not_a_version(string? text)
    {
        Assert.False(CniVersion.TryParse(text, out var version));
        Assert.Equal(default, version);
    }

    [Theory]
    [InlineData("0.4.0", "1.0.0", -1)]
    [InlineData("1.0.0", "1.1.0", -1)]
    [InlineData("0.3.1", "0.3.0", 1)]
    [InlineData("1.10.0", "1.9.0", 1)] // numbers, not strings
    [InlineData("2.0.0", "1.99.99", 1)]
    [InlineData("1.0.0", "1.0.0", 0)]
    public void Versions_compare_as_numbers(string a, string b, int sign)
    {
        Assert.True(CniVersion.TryParse(a, out var va));
        Assert.True(CniVersion.TryParse(b, out var vb));

        Assert.Equal(sign, Math.Sign(va.CompareTo(vb)));
        Assert.Equal(sign < 0, va < vb);
        Assert.Equal(sign > 0, va > vb);
        Assert.Equal(sign <= 0, va <= vb);
        Assert.Equal(sign >= 0, va >= vb);
    }

    [Fact]
    public void The_supported_range_is_0_3_0_to_1_1_0()
    {
        Assert.Equal("0.3.0", CniVersion.MinimumSupported.ToString());
        Assert.Equal("1.1.0", CniVersion.MaximumSupported.ToString());
    }
}
