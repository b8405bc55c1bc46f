using Grpc.Core;
using Porter.Protocol;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Invocation;
using Porter.Server.Configuration;
using Porter.Server.Drivers;
using Porter.Server.Json;
using Porter.Server.Namespaces;

namespace Porter.Server.Attachments;

/// <summary>How failures of the attach workflow reach the caller: a gRPC status and a message that says what happened.</summary>
public static class AttachmentErrors
{
    public static RpcException Failure(Exception e, string context, string? rollbackProblem)
    {
        var status = e switch
        {
            CniTimeoutException => StatusCode.DeadlineExceeded,
            CniException or ConfigException => StatusCode.FailedPrecondition,
            _ => StatusCode.Internal,
        };
        var message = $"{context}: {e.Message}";
        if (rollbackProblem is not null)
        {
            message += $" (undoing it failed too: {rollbackProblem})";
        }
        return RpcErrors.Of(status, message);
    }

    /// <summary>Plain words for plugin errors whose cause is not obvious from their own message.</summary>
    public static string Explain(Exception e, NetworkConfigList network, NetworkKind kind) =>
        kind.Ipam.Explain(e.Message, network.Name) is { Length: > 0 } words ? $": {words}" : "";

    public static RpcException ForNetns(NetnsException e) => RpcErrors.Of(e.Problem switch
    {
        NetnsProblem.NotFound => StatusCode.NotFound,
        NetnsProblem.NotOwned => StatusCode.PermissionDenied,
        NetnsProblem.CallerGone => StatusCode.Cancelled,
        NetnsProblem.CannotVerify => StatusCode.FailedPrecondition,
        _ => StatusCode.InvalidArgument,
    }, e.Message);
}
