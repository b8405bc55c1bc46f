using Grpc.Core;

namespace Porter.Protocol;

public static class RpcErrors
{
    /// <summary>A failed call with this status and the message the caller is shown (grpc-message).</summary>
    public static RpcException Of(StatusCode code, string detail) => new(new Status(code, detail));
}
