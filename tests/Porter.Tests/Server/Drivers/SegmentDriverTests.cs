using System.Text;
using Porter.Server.Cni.Config;
using Porter.Server.Drivers;
using Xunit;

namespace Porter.Tests.Server.Drivers;

public sealed class SegmentDriverTests
{
    private static NetworkConfigList List(string plugins) => NetworkConfigLoader.ParseList(
        Encoding.UTF8.GetBytes($$"""{"cniVersion":"1.0.0","name":"seg","plugins":[{{plugins}}]}"""), "/etc/net-porter/cni.d/seg.conflist", null, null);

    [Fact]
    public void A_bridge_without_gateway_masquerading_or_ports_can_be_a_segment()
    {
        var list = List("""{"type":"bridge","bridge":"seg0","isGateway":false,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.9.0.0/24"}]]}}""");

        Assert.Null(SegmentRules.WhyNot(list));
        var kind = NetworkKind.Of(list, segment: true);
        Assert.True(kind.Interface.IsSegment);
        Assert.Equal("seg0", kind.Interface.HostBridge);
        Assert.False(NetworkKind.Of(list).Interface.IsSegment);
    }

    [Theory]
    [InlineData("""{"type":"macvlan","master":"eth0"}""", "its main plugin is 'macvlan'; a segment is a host bridge (type \"bridge\")")]
    [InlineData("""{"type":"bridge","isGateway":true}""", "its bridge sets \"isGateway\": true, which gives the host a part in the segment; a segment's bridge has no address and no NAT")]
    [InlineData("""{"type":"bridge","ipMasq":true}""", "its bridge sets \"ipMasq\": true, which gives the host a part in the segment; a segment's bridge has no address and no NAT")]
    [InlineData("""{"type":"bridge"},{"type":"portmap","capabilities":{"portMappings":true}}""", "it chains portmap, which forwards host ports into the segment; a segment is not reachable from the host")]
    public void Anything_that_gives_the_host_a_part_is_not_a_segment(string plugins, string problem)
    {
        Assert.Equal(problem, SegmentRules.WhyNot(List(plugins)));
    }
}
