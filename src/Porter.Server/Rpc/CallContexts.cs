using Grpc.Core;
using Porter.Protocol;
using Porter.Server.Identity;

namespace Porter.Server.Rpc;

/// <summary>Where a call's <see cref="CallContext"/> lives while grpc-dotnet runs it: the call's user state.</summary>
public static class CallContexts
{
    private const string Key = "net-porter call";

    /// <summary>The call's context, as <see cref="CallerInterceptor"/> attached it before the handler ran.</summary>
    public static CallContext Of(ServerCallContext context) =>
        Find(context) ?? throw RpcErrors.Of(StatusCode.Internal, "the call was not identified (CallerInterceptor is not installed)");

    public static CallContext? Find(ServerCallContext context) => context.UserState.TryGetValue(Key, out var value) ? value as CallContext : null;

    public static void Attach(ServerCallContext context, CallContext call) => context.UserState[Key] = call;

    /// <summary>"Setup" from "/netporter.v1.Porter/Setup".</summary>
    public static string MethodName(ServerCallContext context) => context.Method[(context.Method.LastIndexOf('/') + 1)..];
}
