namespace Porter.Protocol;

/// <summary>Facts about the contract that are not in the generated code.</summary>
public static class PorterApi
{
    /// <summary>The gRPC service, as netporter/v1/porter.proto names it.</summary>
    public static string ServiceName => V1.Porter.Descriptor.FullName;

    /// <summary>The contract version reported by Info.</summary>
    public const string ApiVersion = "1";
}
