using Porter.Protocol;
using Porter.Protocol.Grpc;
using Porter.Protocol.V1;
using Xunit;

namespace Porter.Tests.Protocol;

public sealed class PorterApiTests
{
    [Fact]
    public void Methods_have_the_http2_paths_of_service_netporter_v1_Porter()
    {
        Assert.Equal("netporter.v1.Porter", PorterApi.ServiceName);
        Assert.Equal("/netporter.v1.Porter/Info", PorterApi.Info.Path);
        Assert.Equal("/netporter.v1.Porter/Create", PorterApi.Create.Path);
        Assert.Equal("/netporter.v1.Porter/Setup", PorterApi.Setup.Path);
        Assert.Equal("/netporter.v1.Porter/Teardown", PorterApi.Teardown.Path);
        Assert.Equal("Setup", PorterApi.Setup.Name);
        Assert.Equal("1", PorterApi.ApiVersion);
    }

    [Fact]
    public void Methods_parse_their_own_message_types()
    {
        Assert.Same(SetupRequest.Parser, PorterApi.Setup.RequestParser);
        Assert.Same(SetupResponse.Parser, PorterApi.Setup.ResponseParser);
        Assert.Same(TeardownResponse.Parser, PorterApi.Teardown.ResponseParser);
    }

    [Theory]
    [InlineData(StatusCode.OK, "OK")]
    [InlineData(StatusCode.InvalidArgument, "INVALID_ARGUMENT")]
    [InlineData(StatusCode.PermissionDenied, "PERMISSION_DENIED")]
    [InlineData(StatusCode.ResourceExhausted, "RESOURCE_EXHAUSTED")]
    [InlineData(StatusCode.Unauthenticated, "UNAUTHENTICATED")]
    [InlineData((StatusCode)42, "42")]
    public void Status_codes_have_their_wire_names(StatusCode code, string name)
    {
        Assert.Equal(name, code.ToWireName());
    }

    [Fact]
    public void RpcException_prints_status_and_detail()
    {
        var e = new RpcException(StatusCode.PermissionDenied, "alice may not use 'lan'");
        Assert.Equal("PERMISSION_DENIED: alice may not use 'lan'", e.ToString());
        Assert.Equal("alice may not use 'lan'", e.Message);
        Assert.Equal("alice may not use 'lan'", e.Detail);
        Assert.Equal(14, (int)StatusCode.Unavailable);
    }
}
