using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;
using Porter.Protocol;
using Porter.Server.Configuration;
using Porter.Server.Diagnostics;
using Porter.Server.Identity;
using Porter.Server.Limits;

namespace Porter.Server.Rpc;

/// <summary>
/// Ties every call to the peer the kernel reported when its connection was accepted (SO_PEERCRED, and the pidfd
/// that pins that process), resolves it to a user, and holds one of that user's request slots while the call runs.
/// With <c>log.timings</c> (or NET_PORTER_TIMINGS=1) it also times the call's phases and logs them when it ends.
/// </summary>
public sealed class CallerInterceptor(CallerResolver callers, UserLimits limits, ConfigStore store, ILoggerFactory loggers) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var peer = PeerOf(context);
        var timings = RequestTimings.Begin(store.Current.Config.Log.Timings, peer.TakeAcceptedAt());
        if (!peer.TryAddReference())
        {
            throw RpcErrors.Of(StatusCode.Cancelled, "the connection closed before the call began");
        }
        try
        {
            var caller = callers.Resolve(peer.Credentials);
            RequestTimings.Lap("caller");
            CallContexts.Attach(context, new CallContext(peer, caller, context.CancellationToken, CallContexts.MethodName(context)));
            if (!limits.Requests.TryEnter(caller.Uid))
            {
                throw RpcErrors.Of(StatusCode.ResourceExhausted,
                    $"{caller.Describe()} already has {limits.Requests.Limit} requests in progress (the limit); try again when they finish");
            }
            try
            {
                var reply = await continuation(request, context).ConfigureAwait(false);
                RequestTimings.Lap("answer");
                return reply;
            }
            finally
            {
                limits.Requests.Leave(caller.Uid);
                if (timings is not null)
                {
                    loggers.CreateLogger(RequestTimings.LogCategory).LogInformation("timings {Method} uid {Uid}: {Timings}", CallContexts.MethodName(context), caller.Uid, timings.Summary());
                }
            }
        }
        finally
        {
            peer.Release();
        }
    }

    private static PeerProcess PeerOf(ServerCallContext context)
    {
        var items = context.GetHttpContext().Features.Get<IConnectionItemsFeature>()?.Items;
        return items is not null && items.TryGetValue(typeof(PeerProcess), out var value) && value is PeerProcess peer
            ? peer
            : throw RpcErrors.Of(StatusCode.Unauthenticated, "the connection has no peer credentials to identify the caller by");
    }
}
