using Porter.Protocol.Grpc;
using Porter.Protocol.V1;

namespace Porter.Protocol;

/// <summary>The methods of service netporter.v1.Porter, as both sides address them.</summary>
public static class PorterApi
{
    public const string ServiceName = "netporter.v1.Porter";

    /// <summary>The contract version reported by Info.</summary>
    public const string ApiVersion = "1";

    public static readonly UnaryMethod<InfoRequest, InfoResponse> Info =
        new(ServiceName, "Info", InfoRequest.Parser, InfoResponse.Parser);

    public static readonly UnaryMethod<CreateRequest, CreateResponse> Create =
        new(ServiceName, "Create", CreateRequest.Parser, CreateResponse.Parser);

    public static readonly UnaryMethod<SetupRequest, SetupResponse> Setup =
        new(ServiceName, "Setup", SetupRequest.Parser, SetupResponse.Parser);

    public static readonly UnaryMethod<TeardownRequest, TeardownResponse> Teardown =
        new(ServiceName, "Teardown", TeardownRequest.Parser, TeardownResponse.Parser);
}
