using Microsoft.Extensions.Logging;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Runtime;
using Porter.Server.Drivers;
using Porter.Server.Json;
using Porter.Server.Namespaces;

namespace Porter.Server.Attachments;

/// <summary>
/// Releasing attachments when the strict way is not available: after a failed ADD, after a failed DEL, for leftovers
/// in the way of a new setup, and for garbage collection. Everything that can be released is, the record is forgotten
/// in any case (nothing may block a container's next start), and what could not be released is returned.
/// </summary>
public sealed class AttachmentReleaser(CniRuntime runtime, HostBridges bridges, NetnsHolds holds, LeaseStates leases, ILogger<AttachmentReleaser> logger)
{
    /// <summary>Releases a recorded attachment as far as it goes and forgets it. Callers hold the attachment's key lock.</summary>
    public async Task<IReadOnlyList<string>> ForgetAsync(AttachmentRecord entry, string netnsPath, CniRuntimeOptions options, CancellationToken cancellationToken)
    {
        var held = entry.Facts.Hold;
        // Whatever happens below, the record goes, and what status knew of its lease with it.
        leases.Forget(entry.Id.Name);
        NetworkConfigList list;
        try
        {
            list = entry.ConfigList();
        }
        catch (ConfigException e)
        {
            // The cached configuration itself is unreadable: nothing can be run, but the record must not block anything.
            runtime.Attachments.Delete(entry.Id);
            holds.Release(held);
            return [$"the recorded configuration is unreadable ({e.Message}); the record was dropped"];
        }
        var bridge = NetworkKind.Of(list).Interface.HostBridge;
        using var bridgeLock = bridge is null ? null : await bridges.LockAsync(bridge, cancellationToken).ConfigureAwait(false);
        try
        {
            return await runtime.ReleaseNetworkListAsync(list, entry.ToRuntimeConf(netnsPath), options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            holds.Release(held);
            await RemoveBridgeIfUnusedAsync(bridge).ConfigureAwait(false);
        }
    }

    /// <summary>DEL after a failed or abandoned ADD (bridge lock held by the caller). Null when everything was undone.</summary>
    public async Task<string?> RollbackAsync(NetworkConfigList network, RuntimeConf rt, AttachmentKey key, CniRuntimeOptions options)
    {
        try
        {
            var problems = await runtime.ReleaseNetworkListAsync(network, rt, options, CancellationToken.None).ConfigureAwait(false);
            if (problems.Count == 0)
            {
                return null;
            }
            logger.LogError("{Key}: rollback after a failed setup did not complete: {Problems}", key, string.Join("; ", problems));
            return string.Join("; ", problems);
        }
        finally
        {
            holds.Release(rt.NetNs);
        }
    }

    /// <summary>Removes a host bridge net-porter made once nothing uses it (bridge lock held by the caller).</summary>
    public async Task RemoveBridgeIfUnusedAsync(string? bridge)
    {
        if (bridge is not null && await bridges.RemoveIfUnusedAsync(bridge, runtime.Attachments).ConfigureAwait(false) is { } note)
        {
            logger.LogInformation("{Note}", note);
        }
    }

    /// <summary>The namespace path to DEL in: the caller's (if it is still the one attached), else our hold, else none.</summary>
    public static string DelNamespace(AttachmentRecord entry, OpenedNetns? current)
    {
        if (current is not null && entry.Facts.NetnsInode == current.Inode)
        {
            return current.ProcPath;
        }
        return NetnsHolds.IsHeld(entry.Facts.Hold) ? entry.Facts.Hold : "";
    }
}
