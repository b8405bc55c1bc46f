using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Porter.Server.Configuration;

namespace Porter.Server.Attachments;

/// <summary>Runs a garbage-collection pass at start and then every gc_interval_seconds (read anew each time, so a reload applies).</summary>
public sealed class GarbageCollectionService(ConfigStore store, AttachmentCollector collector, ILogger<GarbageCollectionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await collector.CollectAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogError("garbage collection failed: {Error}", e.Message);
            }
            try
            {
                await Task.Delay(store.Current.Config.GcInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
