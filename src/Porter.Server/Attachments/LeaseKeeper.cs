using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Invocation;
using Porter.Server.Cni.Runtime;
using Porter.Server.Dhcp;
using Porter.Server.Drivers;
using Porter.Server.Json;
using Porter.Server.Namespaces;

namespace Porter.Server.Attachments;

/// <summary>
/// The DHCP daemon keeps leases only in memory. Whenever it (re)starts — the server restarted, or the daemon died —
/// the lease of every running DHCP attachment is acquired again through its held namespace (same client id, so the
/// DHCP server hands out the same address), and at server start the daemon is started at once if such attachments exist.
/// </summary>
public sealed class LeaseKeeper(DhcpDaemon daemon, CniRuntime runtime, KeyedLocks locks, LeaseStates states, Func<CniRuntimeOptions> currentOptions,
    ILogger<LeaseKeeper> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        daemon.Started += () =>
        {
            // In the background: a setup that started the daemon must not wait for every other lease.
            _ = Task.Run(ReacquireAllAsync);
            return Task.CompletedTask;
        };
        if (DhcpAttachments().Any())
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await daemon.EnsureRunningAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (CniException e)
                {
                    logger.LogError("the DHCP daemon could not be started: {Error}", e.Message);
                }
            }, cancellationToken);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task ReacquireAllAsync()
    {
        foreach (var (listed, list) in DhcpAttachments())
        {
            // Waits for a setup or teardown under way, then goes by the record as it is now: the listing may be older
            // than a teardown (nothing to renew) or a new setup of the same key (another namespace, another hold).
            using var keyLock = await locks.AcquireAsync(AttachmentKey.LockKeyFor(listed.Id), CancellationToken.None).ConfigureAwait(false);
            AttachmentRecord? entry;
            try
            {
                entry = runtime.Attachments.Read(listed.Id);
            }
            catch (FormatException)
            {
                continue; // garbage collection sets unreadable records aside
            }
            if (entry is not { Complete: true, Result: not null })
            {
                continue;
            }
            var name = entry.Id.Name;
            var held = entry.Facts.Hold;
            if (!NetnsHolds.IsHeld(held))
            {
                logger.LogWarning("DHCP lease of {Name} cannot be renewed any more: its namespace is not held", name);
                continue;
            }
            try
            {
                var result = await runtime.ReacquireIpamAsync(list, entry.ToRuntimeConf(held), currentOptions(), CancellationToken.None).ConfigureAwait(false);
                var now = string.Join(", ", result.Ips.Select(ip => ip.Address));
                var before = string.Join(", ", Cni.Types.CniResult.Parse(entry.Result!).Ips.Select(ip => ip.Address));
                states.Acquired(name, now, again: true);
                if (now == before)
                {
                    logger.LogInformation("DHCP lease of {Name} acquired again: {Address}", name, now);
                }
                else
                {
                    logger.LogWarning("DHCP lease of {Name} acquired again, but the server gave {Now} instead of {Before}; the container keeps {Before} until it restarts",
                        name, now, before, before);
                }
            }
            catch (Exception e) when (e is CniException or FormatException)
            {
                logger.LogError("DHCP lease of {Name} could not be acquired again: {Error}", name, e.Message);
                states.Failed(name, e.Message);
            }
        }
    }

    private IEnumerable<(AttachmentRecord Entry, NetworkConfigList List)> DhcpAttachments()
    {
        foreach (var entry in runtime.Attachments.List().Records.Where(e => e.Complete && e.Result is not null))
        {
            NetworkConfigList list;
            try
            {
                list = entry.ConfigList();
            }
            catch (ConfigException)
            {
                continue;
            }
            if (NetworkKind.Of(list).Ipam.KeepsLease)
            {
                yield return (entry, list);
            }
        }
    }
}
