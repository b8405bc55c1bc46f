using Google.Protobuf.Collections;
using Grpc.Core;
using Porter.Protocol.V1;
using Porter.Server.Attachments;
using Xunit;

namespace Porter.Tests.Server.Attachments;

public sealed class PortMappingsTests
{
    private static RepeatedField<PortMapping> Mappings(params PortMapping[] mappings)
    {
        var field = new RepeatedField<PortMapping>();
        field.AddRange(mappings);
        return field;
    }

    private static string Expand(params PortMapping[] mappings) => PortMappings.Expand(Mappings(mappings)).ToJsonString();

    private static string Fails(params PortMapping[] mappings)
    {
        var e = Assert.Throws<RpcException>(() => PortMappings.Expand(Mappings(mappings)));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        return e.Status.Detail;
    }

    [Fact]
    public void A_range_over_tcp_and_udp_expands_per_protocol_and_port()
    {
        Assert.Equal(
            """[{"hostPort":8080,"containerPort":80,"protocol":"tcp"},{"hostPort":8081,"containerPort":81,"protocol":"tcp"},""" +
            """{"hostPort":8080,"containerPort":80,"protocol":"udp"},{"hostPort":8081,"containerPort":81,"protocol":"udp"}]""",
            Expand(new PortMapping { ContainerPort = 80, HostPort = 8080, Range = 2, Protocol = "tcp,udp" }));
    }

    [Fact]
    public void host_ip_is_given_only_when_set()
    {
        Assert.Equal(
            """[{"hostPort":53,"containerPort":53,"protocol":"udp","hostIP":"127.0.0.1"},{"hostPort":443,"containerPort":8443,"protocol":"tcp"}]""",
            Expand(
                new PortMapping { ContainerPort = 53, HostPort = 53, Range = 1, Protocol = "udp", HostIp = "127.0.0.1" },
                new PortMapping { ContainerPort = 8443, HostPort = 443, Range = 1, Protocol = "tcp", HostIp = "" }));
    }

    [Fact]
    public void Range_0_means_1_and_no_protocol_means_tcp()
    {
        Assert.Equal("""[{"hostPort":80,"containerPort":80,"protocol":"tcp"}]""", Expand(new PortMapping { ContainerPort = 80, HostPort = 80 }));
    }

    [Fact]
    public void Protocols_are_trimmed_and_lowercased()
    {
        Assert.Equal(
            """[{"hostPort":1,"containerPort":1,"protocol":"sctp"},{"hostPort":1,"containerPort":1,"protocol":"udp"}]""",
            Expand(new PortMapping { ContainerPort = 1, HostPort = 1, Range = 1, Protocol = " SCTP , udp ," }));
    }

    [Fact]
    public void No_mappings_expand_to_nothing()
    {
        Assert.Equal("[]", Expand());
    }

    [Fact]
    public void An_unknown_protocol_is_refused()
    {
        Assert.Equal("port_mappings: unknown protocol 'icmp' (tcp, udp or sctp)",
            Fails(new PortMapping { ContainerPort = 80, HostPort = 80, Range = 1, Protocol = "tcp,icmp" }));
    }

    [Theory]
    [InlineData(65535u, 65535u, 2u)]
    [InlineData(65000u, 80u, 537u)]
    [InlineData(80u, 65000u, 537u)]
    [InlineData(0u, 80u, 1u)]
    [InlineData(65536u, 80u, 1u)]
    [InlineData(80u, 65536u, 1u)]
    public void Ports_beyond_65535_are_refused(uint container, uint host, uint range)
    {
        Assert.Equal($"port_mappings: container port {container}, host port {host} and range {range} go beyond 1-65535",
            Fails(new PortMapping { ContainerPort = container, HostPort = host, Range = range, Protocol = "tcp" }));
    }

    [Fact]
    public void The_last_port_may_be_65535()
    {
        Assert.Equal("""[{"hostPort":65534,"containerPort":65534,"protocol":"tcp"},{"hostPort":65535,"containerPort":65535,"protocol":"tcp"}]""",
            Expand(new PortMapping { ContainerPort = 65534, HostPort = 65534, Range = 2, Protocol = "tcp" }));
    }

    [Fact]
    public void A_range_that_wraps_around_uint_is_refused()
    {
        var message = Fails(new PortMapping { ContainerPort = 2, HostPort = 2, Range = uint.MaxValue, Protocol = "tcp" });
        Assert.StartsWith("port_mappings: ", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("1")]
    [InlineData("010.1.1.1")]
    [InlineData("fe80::1%eth0")]
    public void An_invalid_host_ip_is_refused(string hostIp)
    {
        Assert.Equal($"port_mappings: host_ip '{hostIp}' is not an IP address",
            Fails(new PortMapping { ContainerPort = 80, HostPort = 80, Range = 1, Protocol = "tcp", HostIp = hostIp }));
    }

    [Fact]
    public void More_than_4096_entries_are_refused()
    {
        Assert.Equal(4096, PortMappings.Expand(Mappings(new PortMapping { ContainerPort = 1, HostPort = 1, Range = 2048, Protocol = "tcp,udp" })).Count);
        Assert.Equal("port_mappings: more than 4096 ports",
            Fails(new PortMapping { ContainerPort = 1, HostPort = 1, Range = 2049, Protocol = "tcp,udp" }));
    }
}
