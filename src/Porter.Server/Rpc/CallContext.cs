using Grpc.Core;
using Porter.Protocol;
using Porter.Server.Identity;

namespace Porter.Server.Rpc;

/// <summary>Per-call facts the handlers work from: the verified caller and the call's cancellation.</summary>
public sealed class CallContext(PeerProcess peer, CallerIdentity caller, CancellationToken aborted, string method)
{
    private const string Key = "net-porter call";

    public PeerProcess Peer { get; } = peer;
    public CallerIdentity Caller { get; } = caller;
    /// <summary>Signalled when the client disconnects or its deadline passes.</summary>
    public CancellationToken Aborted { get; } = aborted;
    public string Method { get; } = method;

    /// <summary>The call's context, as <see cref="CallerInterceptor"/> attached it before the handler ran.</summary>
    public static CallContext Of(ServerCallContext context) =>
        Find(context) ?? throw RpcErrors.Of(StatusCode.Internal, "the call was not identified (CallerInterceptor is not installed)");

    public static CallContext? Find(ServerCallContext context) => context.UserState.TryGetValue(Key, out var value) ? value as CallContext : null;

    public void AttachTo(ServerCallContext context) => context.UserState[Key] = this;

    /// <summary>"Setup" from "/netporter.v1.Porter/Setup".</summary>
    public static string MethodName(ServerCallContext context) => context.Method[(context.Method.LastIndexOf('/') + 1)..];
}
