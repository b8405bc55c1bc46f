using System.Collections.Immutable;
using System.Text;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Invocation;
using Porter.Server.Cni.Runtime;
using Porter.Server.Cni.Types;
using Xunit;

namespace Porter.Tests.Server.Cni.Runtime;

public sealed class VersionNegotiatorTests
{
    /// <summary>What Debian's containernetworking-plugins 1.1.1 report.</summary>
    private static readonly ImmutableArray<CniVersion> Debian111 = Versions("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0");

    private static readonly ImmutableArray<CniVersion> Upstream16 = Versions("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0");

    private static ImmutableArray<CniVersion> Versions(params string[] texts) =>
        [.. texts.Select(t => CniVersion.TryParse(t, out var v) ? v : throw new ArgumentException(t))];

    private static NetworkConfigList List(string version, string? versions = null)
    {
        var extra = versions is null ? "" : $"\"cniVersions\": {versions}, ";
        var json = $$$"""{"cniVersion": "{{{version}}}", {{{extra}}}"name": "lan", "plugins": [{"type": "macvlan", "ipam": {"type": "host-local"}}]}""";
        return NetworkConfigLoader.ParseList(Encoding.UTF8.GetBytes(json), "/x", null, null);
    }

    private static string Choose(NetworkConfigList list, params (string, ImmutableArray<CniVersion>)[] supported) =>
        VersionNegotiator.Choose(list, supported).ToString();

    [Fact]
    public void A_1_1_0_list_runs_at_1_0_0_with_plugins_that_stop_there()
    {
        Assert.Equal("1.0.0", Choose(List("1.1.0"), ("macvlan", Debian111), ("host-local", Debian111)));
    }

    [Fact]
    public void A_0_4_0_list_runs_at_0_4_0()
    {
        Assert.Equal("0.4.0", Choose(List("0.4.0"), ("macvlan", Upstream16), ("host-local", Debian111)));
    }

    [Fact]
    public void A_1_1_0_list_runs_at_1_1_0_when_every_plugin_has_it()
    {
        Assert.Equal("1.1.0", Choose(List("1.1.0"), ("macvlan", Upstream16), ("host-local", Upstream16)));
    }

    [Fact]
    public void The_plugin_with_the_fewest_versions_decides()
    {
        Assert.Equal("1.0.0", Choose(List("1.1.0"), ("macvlan", Upstream16), ("host-local", Debian111)));
    }

    [Fact]
    public void cniVersions_raise_the_ceiling()
    {
        Assert.Equal("1.0.0", Choose(List("0.4.0", """["1.0.0"]"""), ("macvlan", Upstream16)));
        Assert.Equal("1.1.0", Choose(List("0.4.0", """["1.1.0", "1.0.0"]"""), ("macvlan", Upstream16)));
    }

    [Fact]
    public void A_version_newer_than_the_runtime_is_capped_at_1_1_0()
    {
        var future = Versions("1.0.0", "1.1.0", "2.0.0");
        Assert.Equal("1.1.0", Choose(List("2.0.0"), ("macvlan", future)));
    }

    [Fact]
    public void Versions_below_0_3_0_are_never_chosen()
    {
        var e = Assert.Throws<CniException>(() => Choose(List("0.3.1"), ("macvlan", Versions("0.1.0", "0.2.0"))));
        Assert.Equal("network 'lan' asks for cniVersion 0.3.1, but its plugins share no version from 0.3.0 to 0.3.1 (macvlan: 0.1.0, 0.2.0)", e.Message);
    }

    [Fact]
    public void No_common_version_is_an_error_listing_each_plugins_versions()
    {
        var e = Assert.Throws<CniException>(() => Choose(List("1.0.0"),
            ("macvlan", Versions("1.0.0")), ("host-local", Versions("0.3.1", "0.4.0"))));

        Assert.Equal(
            "network 'lan' asks for cniVersion 1.0.0, but its plugins share no version from 0.3.0 to 1.0.0 (macvlan: 1.0.0; host-local: 0.3.1, 0.4.0)",
            e.Message);
    }

    [Fact]
    public void Plugins_that_only_speak_newer_versions_do_not_fit_an_older_list()
    {
        var e = Assert.Throws<CniException>(() => Choose(List("0.4.0"), ("macvlan", Versions("1.0.0", "1.1.0"))));
        Assert.Contains("share no version from 0.3.0 to 0.4.0 (macvlan: 1.0.0, 1.1.0)", e.Message, StringComparison.Ordinal);
    }
}
