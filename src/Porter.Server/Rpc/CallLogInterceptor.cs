using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Porter.Protocol;

namespace Porter.Server.Rpc;

/// <summary>
/// Logs every call with its caller, status and duration, and turns what a handler did not mean to throw into a
/// status with a message (grpc-dotnet would otherwise answer "Exception was thrown by handler").
/// </summary>
public sealed class CallLogInterceptor(ILogger<CallLogInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        var method = CallContexts.MethodName(context);
        try
        {
            var reply = await continuation(request, context).ConfigureAwait(false);
            logger.LogDebug("{Method} from {Caller}: OK in {Ms:0} ms", method, Who(context), Elapsed(started));
            return reply;
        }
        catch (RpcException e)
        {
            Log(method, Who(context), e.StatusCode, e.Status.Detail, started);
            throw;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            if (context.Deadline <= DateTime.UtcNow)
            {
                Log(method, Who(context), StatusCode.DeadlineExceeded, "deadline exceeded", started);
                throw RpcErrors.Of(StatusCode.DeadlineExceeded, $"{method} did not finish within the caller's deadline");
            }
            logger.LogInformation("{Method} from {Caller}: the client disconnected", method, Who(context));
            throw RpcErrors.Of(StatusCode.Cancelled, "the client disconnected");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "{Method} from {Caller} failed unexpectedly", method, Who(context));
            throw RpcErrors.Of(StatusCode.Internal, $"internal server error in {method}: {e.Message}");
        }
    }

    private static string Who(ServerCallContext context) =>
        CallContexts.Find(context) is { } call ? $"{call.Caller.Describe()} pid {call.Caller.Pid}" : "unknown caller";

    private static double Elapsed(long started) => Stopwatch.GetElapsedTime(started).TotalMilliseconds;

    private void Log(string method, string who, StatusCode status, string detail, long started)
    {
        var level = status is StatusCode.Internal or StatusCode.Unknown or StatusCode.DataLoss ? LogLevel.Error : LogLevel.Warning;
        logger.Log(level, "{Method} from {Caller}: {Status}: {Detail} ({Ms:0} ms)", method, who, status.ToWireName(), detail, Elapsed(started));
    }
}
