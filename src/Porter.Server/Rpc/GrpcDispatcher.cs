using System.Diagnostics;
using Google.Protobuf;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Porter.Protocol.Grpc;
using Porter.Server.Identity;
using Porter.Server.Limits;

namespace Porter.Server.Rpc;

/// <summary>
/// The server half of the hand-written gRPC layer (Grpc.AspNetCore cannot be restored here): routes
/// POST /package.Service/Method to unary handlers, frames replies, and reports failures as gRPC statuses in
/// trailers (or trailers-only responses) with a percent-encoded grpc-message. Every call is tied to the peer's
/// kernel credentials before its handler runs.
/// </summary>
public sealed class GrpcDispatcher(CallerResolver callers, UserLimits limits, ILogger<GrpcDispatcher> logger)
{
    public const int MaxRequestMessageSize = 1024 * 1024;
    private static readonly TimeSpan MaxDeadline = TimeSpan.FromHours(1);

    private readonly Dictionary<string, Func<HttpContext, Task>> _routes = new(StringComparer.Ordinal);

    public void MapUnary<TRequest, TResponse>(UnaryMethod<TRequest, TResponse> method, Func<TRequest, CallContext, Task<TResponse>> handler)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        _routes[method.Path] = context => HandleUnaryAsync(context, method, handler);
    }

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }
        if (!GrpcWire.IsGrpcContentType(request.ContentType))
        {
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }
        if (!_routes.TryGetValue(request.Path.Value ?? "", out var route))
        {
            WriteStatus(context, StatusCode.Unimplemented, $"unknown method {request.Path.Value}");
            return;
        }
        if (request.Headers.TryGetValue(GrpcWire.EncodingHeader, out var encoding) && encoding != "identity")
        {
            WriteStatus(context, StatusCode.Unimplemented, $"message compression '{encoding}' is not supported");
            return;
        }
        await route(context).ConfigureAwait(false);
    }

    private async Task HandleUnaryAsync<TRequest, TResponse>(
        HttpContext context, UnaryMethod<TRequest, TResponse> method, Func<TRequest, CallContext, Task<TResponse>> handler)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        var started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        if (GrpcWire.TryParseTimeout(context.Request.Headers[GrpcWire.TimeoutHeader], out var timeout))
        {
            deadline.CancelAfter(timeout < MaxDeadline ? timeout : MaxDeadline);
        }
        PeerProcess? peer = null;
        var who = "unknown caller";
        var counted = false;
        try
        {
            peer = OpenPeer(context);
            var caller = callers.Resolve(peer.Credentials);
            who = $"{caller.Describe()} pid {caller.Pid}";
            if (!limits.Requests.TryEnter(caller.Uid))
            {
                throw new RpcException(StatusCode.ResourceExhausted,
                    $"{caller.Describe()} already has {limits.Requests.Limit} requests in progress (the limit); try again when they finish");
            }
            counted = true;
            var payload = await MessageFrame.ReadUnaryAsync(context.Request.Body, MaxRequestMessageSize, deadline.Token).ConfigureAwait(false)
                ?? throw new RpcException(StatusCode.Internal, "the call carried no request message");
            var message = MessageFrame.Parse(method.RequestParser, payload, StatusCode.InvalidArgument);
            var reply = await handler(message, new CallContext(peer, caller, deadline.Token, method.Name)).ConfigureAwait(false);

            var frame = MessageFrame.Encode(reply);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = GrpcWire.ContentType;
            await context.Response.Body.WriteAsync(frame, context.RequestAborted).ConfigureAwait(false);
            context.Response.AppendTrailer(GrpcWire.StatusHeader, "0");
            logger.LogDebug("{Method} from {Caller}: OK in {Ms:0} ms", method.Name, who, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (RpcException e)
        {
            Log(method.Name, who, e.Status, e.Detail, started);
            WriteStatus(context, e.Status, e.Detail);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            logger.LogInformation("{Method} from {Caller}: the client disconnected", method.Name, who);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Log(method.Name, who, StatusCode.DeadlineExceeded, "deadline exceeded", started);
            WriteStatus(context, StatusCode.DeadlineExceeded, $"{method.Name} did not finish within the caller's deadline");
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e)
        {
            Log(method.Name, who, StatusCode.ResourceExhausted, e.Message, started);
            WriteStatus(context, StatusCode.ResourceExhausted, $"request rejected: {e.Message}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "{Method} from {Caller} failed unexpectedly", method.Name, who);
            WriteStatus(context, StatusCode.Internal, $"internal server error in {method.Name}: {e.Message}");
        }
        finally
        {
            if (counted)
            {
                limits.Requests.Leave(peer!.Credentials.Uid);
            }
            peer?.Dispose();
        }
    }

    private static PeerProcess OpenPeer(HttpContext context)
    {
        var socket = context.Features.Get<IConnectionSocketFeature>()?.Socket
            ?? throw new RpcException(StatusCode.Unauthenticated, "the connection has no socket to identify the caller by");
        var credentials = PeerCredentials.Read(socket);
        return new PeerProcess(credentials, PeerCredentials.TryOpenPidfd(socket));
    }

    private void Log(string method, string who, StatusCode status, string detail, long started)
    {
        var level = status is StatusCode.Internal or StatusCode.Unknown or StatusCode.DataLoss ? LogLevel.Error : LogLevel.Warning;
        logger.Log(level, "{Method} from {Caller}: {Status}: {Detail} ({Ms:0} ms)", method, who, status.ToWireName(), detail,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>Before the reply has started this is a trailers-only response; afterwards the status goes in trailers.</summary>
    private static void WriteStatus(HttpContext context, StatusCode status, string message)
    {
        var response = context.Response;
        var code = ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var encoded = GrpcWire.PercentEncode(message);
        if (!response.HasStarted)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = GrpcWire.ContentType;
            response.Headers[GrpcWire.StatusHeader] = code;
            response.Headers[GrpcWire.MessageHeader] = encoded;
            return;
        }
        if (response.SupportsTrailers())
        {
            response.AppendTrailer(GrpcWire.StatusHeader, code);
            response.AppendTrailer(GrpcWire.MessageHeader, encoded);
        }
    }
}
