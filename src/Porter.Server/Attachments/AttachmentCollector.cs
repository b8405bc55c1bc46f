using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Porter.Server.Cni.Runtime;
using Porter.Server.Configuration;
using Porter.Server.Namespaces;

namespace Porter.Server.Attachments;

/// <summary>
/// Garbage collection of attachments nobody will tear down: a setup the server never finished (it was killed), a
/// container that was killed or whose podman crashed (no process is left in its network namespace, seen on two passes
/// in a row), or anything from before a reboot. Runs at start and then every gc_interval_seconds; each release is a
/// best-effort DEL with the recorded configuration, and is logged.
/// </summary>
public sealed class AttachmentCollector(
    ConfigStore store,
    CniRuntime runtime,
    AttachmentReleaser releaser,
    KeyedLocks locks,
    IEnumerable<IHelperProcesses> helpers,
    ILogger<AttachmentCollector> logger) : BackgroundService
{
    private readonly Dictionary<string, int> _unusedSightings = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CollectAsync(stoppingToken).ConfigureAwait(false);
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

    /// <summary>One pass; returns how many attachments were released.</summary>
    public async Task<int> CollectAsync(CancellationToken cancellationToken)
    {
        var (entries, unreadable) = runtime.Cache.List();
        foreach (var (path, problem) in unreadable)
        {
            runtime.Cache.Quarantine(path);
            logger.LogWarning("attachment record {Path} is unreadable ({Problem}); moved aside", path, problem);
        }

        var excluded = new HashSet<int>(helpers.SelectMany(h => h.Pids)) { Environment.ProcessId };
        var inUse = NetnsLiveness.InodesInUse(excluded);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var released = 0;
        foreach (var entry in entries)
        {
            var name = Path.GetFileName(runtime.Cache.PathFor(entry.NetworkName, entry.ContainerId, entry.IfName));
            seen.Add(name);
            using var keyLock = locks.TryAcquire(AttachmentKey.LockKeyFor(entry.NetworkName, entry.ContainerId, entry.IfName));
            if (keyLock is null)
            {
                continue; // a setup or teardown is working on it right now
            }
            var reason = WhyRelease(entry, name, inUse);
            if (reason is null)
            {
                continue;
            }
            var problems = await releaser.ForgetAsync(entry, AttachmentReleaser.DelNamespace(entry, null), cancellationToken).ConfigureAwait(false);
            _unusedSightings.Remove(name);
            released++;
            logger.LogInformation("released attachment {Name} of {User}: {Reason}{Problems}", name,
                entry.Annotations["user"]?.GetValue<string>() is { Length: > 0 } user ? user : $"uid {entry.Annotations["uid"]}", reason,
                problems.Count == 0 ? "" : $" (incompletely: {string.Join("; ", problems)})");
        }
        foreach (var gone in _unusedSightings.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            _unusedSightings.Remove(gone);
        }
        return released;
    }

    private string? WhyRelease(CacheEntry entry, string name, HashSet<ulong> inUse)
    {
        if (!entry.Complete)
        {
            return "its setup never finished";
        }
        if (entry.Annotations["bootId"]?.GetValue<string>() is { Length: > 0 } bootId && bootId != NetnsLiveness.BootId)
        {
            return "it was made before the host last booted";
        }
        if (entry.Annotations["netnsInode"]?.GetValue<ulong>() is not { } inode)
        {
            return null;
        }
        if (inUse.Contains(inode))
        {
            _unusedSightings.Remove(name);
            return null;
        }
        // Two sightings in a row: a container between its setup and its first process is not mistaken for a dead one.
        var sightings = _unusedSightings.GetValueOrDefault(name) + 1;
        _unusedSightings[name] = sightings;
        return sightings >= 2 ? "no process is left in its network namespace (the container is gone)" : null;
    }
}

/// <summary>Processes of the server's own (the DHCP daemon) that may sit in container namespaces without keeping them "in use".</summary>
public interface IHelperProcesses
{
    IEnumerable<int> Pids { get; }
}
