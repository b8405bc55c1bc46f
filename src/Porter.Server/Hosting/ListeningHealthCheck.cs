using Microsoft.Extensions.Diagnostics.HealthChecks;
using Porter.Server.Hosting.Transport;

namespace Porter.Server.Hosting;

/// <summary>grpc.health.v1 answers SERVING while the main socket is being served, NOT_SERVING once it is not (shutting down).</summary>
public sealed class ListeningHealthCheck(SocketHub hub) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(hub.Contains("main") ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("the main socket is not being served"));
}
