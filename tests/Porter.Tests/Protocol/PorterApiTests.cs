using Grpc.Core;
using Porter.Protocol;
using Xunit;

namespace Porter.Tests.Protocol;

public sealed class PorterApiTests
{
    [Fact]
    public void The_service_is_netporter_v1_Porter_with_its_methods()
    {
        Assert.Equal("netporter.v1.Porter", PorterApi.ServiceName);
        Assert.Equal(["Info", "Create", "Setup", "Teardown", "Attach", "Detach", "Status"], Porter.Protocol.V1.Porter.Descriptor.Methods.Select(m => m.Name));
        Assert.Equal("1", PorterApi.ApiVersion);
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
    public void A_failed_call_is_described_as_status_and_detail()
    {
        var e = RpcErrors.Of(StatusCode.PermissionDenied, "alice may not use 'lan'");
        Assert.Equal("PERMISSION_DENIED: alice may not use 'lan'", e.Describe());
        Assert.Equal("alice may not use 'lan'", e.Status.Detail);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }
}
