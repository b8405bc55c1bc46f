using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Porter.Protocol;
using Porter.Protocol.V1;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Invocation;
using Porter.Server.Cni.Runtime;
using Porter.Server.Cni.Types;
using Porter.Server.Configuration;
using Porter.Server.Drivers;
using Porter.Server.Identity;
using Porter.Server.Json;
using Porter.Server.Namespaces;
using Porter.Server.Netavark;

namespace Porter.Server.Attachments;

/// <summary>
/// Setup and Teardown: authorize, verify the namespace, run the CNI list, and keep the record consistent whatever
/// happens — a failed or abandoned ADD is undone before answering, and a failed DEL never blocks the next start.
/// </summary>
public sealed class AttachmentService(
    ConfigStore store,
    CniRuntime runtime,
    NetnsOpener opener,
    NetnsHolds holds,
    HostBridges bridges,
    AttachmentReleaser releaser,
    StatusEnricher enricher,
    KeyedLocks locks,
    AttachmentQuota quota,
    IHostApplicationLifetime lifetime,
    ILogger<AttachmentService> logger)
{
    public async Task<SetupResponse> SetupAsync(SetupRequest request, CallContext call)
    {
        RequestValidator.ContainerId(request.ContainerId);
        RequestValidator.ContainerName(request.ContainerName);
        RequestValidator.InterfaceName(request.InterfaceName);
        // The whole setup works on the configuration it began with, whatever a reload swaps in meanwhile.
        var snapshot = store.Current;
        var cni = CniRuntimeOptions.From(snapshot.Config);
        var (resource, network, decision) = RequestAccess.Authorize(snapshot, call.Caller, request.Resource);
        var kind = NetworkKind.Of(network);
        var plan = AttachmentPlan.For(network, kind, request, call.Caller.Uid);
        RequestAccess.CheckStaticAddresses(request, decision, call.Caller, resource.Name);
        using var netns = OpenNetns(call.Peer, request.NetnsPath);
        var key = new AttachmentKey(call.Caller.Uid, resource.Name, request.ContainerId, request.InterfaceName);
        using var keyLock = await locks.AcquireAsync(key.LockKey, call.Aborted).ConfigureAwait(false);

        // From here on the client's cancellation no longer stops the work: an ADD is finished or undone, never left half-made.
        var stopping = lifetime.ApplicationStopping;
        await ReleaseLeftoverAsync(key, netns, cni, stopping).ConfigureAwait(false);
        using var claim = quota.Claim(call.Caller, key);

        // Attachments on one host bridge take turns, so that a bridge is never removed while a container joins it.
        var bridge = kind.Interface.HostBridge;
        using var bridgeLock = bridge is null ? null : await bridges.LockAsync(bridge, stopping).ConfigureAwait(false);
        if (bridge is not null)
        {
            await bridges.NoteBeforeAddAsync(bridge).ConfigureAwait(false);
        }

        // Held at a path of our own from before the ADD until the attachment is released: a crash mid-ADD leaves
        // something to undo it in; DHCP renews from inside and masquerading bridges find their NAT rules for DEL only
        // from inside; and while it is held no other namespace can get its inode, so the inode recorded below names
        // this namespace and no later one (the kernel reuses the inodes of freed namespaces).
        var held = holds.Hold(netns, key.Record.Name);
        var rt = new RuntimeConf
        {
            ContainerId = key.ScopedContainerId,
            NetNs = held,
            IfName = key.IfName,
            Args = plan.CniArgs,
            CapabilityArgs = plan.CapabilityArgs,
            ConfigArgs = plan.ConfigArgs,
        };

        CniResult result;
        try
        {
            result = await runtime.AddNetworkListAsync(network, rt, Facts(call.Caller, request, resource, netns, held), cni, stopping).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CniException or IOException)
        {
            var rollbackProblem = await releaser.RollbackAsync(network, rt, key, cni).ConfigureAwait(false);
            await releaser.RemoveBridgeIfUnusedAsync(bridge).ConfigureAwait(false);
            throw AttachmentErrors.Failure(e, $"setup of {key} failed{AttachmentErrors.Explain(e, network, kind)}", rollbackProblem);
        }
        if (call.Aborted.IsCancellationRequested)
        {
            // Nobody will read the answer, and netavark never tears down a setup it saw fail: undo it now.
            var rollbackProblem = await releaser.RollbackAsync(network, rt, key, cni).ConfigureAwait(false);
            logger.LogWarning("{Key}: the caller went away before setup finished; rolled back{Problem}", key,
                rollbackProblem is null ? "" : $" (incompletely: {rollbackProblem})");
            throw RpcErrors.Of(StatusCode.Cancelled, $"the caller went away before setup of {key} finished; it was rolled back");
        }
        var subnets = request.Network?.Subnets.Select(n => (n.Subnet, n.Gateway)).ToList();
        var status = StatusBlockBuilder.Build(result, key.IfName, subnets);
        await enricher.EnrichAsync(status, resource, network, kind, netns, key, stopping).ConfigureAwait(false);
        logger.LogInformation("attached {Key} for {Caller} in netns {Netns}: {Addresses}", key, call.Caller.Describe(),
            request.NetnsPath, string.Join(", ", status.Interfaces.SelectMany(i => i.Value.Subnets.Select(s => s.Ipnet))));
        return new SetupResponse { Status = status };
    }

    public async Task<TeardownResponse> TeardownAsync(TeardownRequest request, CallContext call)
    {
        RequestValidator.Resource(request.Resource);
        RequestValidator.ContainerId(request.ContainerId);
        RequestValidator.InterfaceName(request.InterfaceName);
        var key = new AttachmentKey(call.Caller.Uid, request.Resource, request.ContainerId, request.InterfaceName);
        var cni = CniRuntimeOptions.From(store.Current.Config);
        using var keyLock = await locks.AcquireAsync(key.LockKey, call.Aborted).ConfigureAwait(false);
        var response = new TeardownResponse();

        // Only the caller's own attachments are found: the record's name carries their uid. No grant is needed to
        // detach, so a revoked grant or a removed resource never strands an attachment.
        if (!TryReadRecord(key, out var entry, out var problem))
        {
            response.Warnings.Add($"the record of {key} was unreadable and was moved aside; nothing could be released ({problem})");
            return response;
        }
        if (entry is null)
        {
            response.Warnings.Add($"nothing is attached for {key}");
            return response;
        }

        using var netns = OpenForTeardown(call.Peer, request.NetnsPath, entry, key, response);
        var netnsPath = AttachmentReleaser.DelNamespace(entry, netns);
        var stopping = lifetime.ApplicationStopping;
        Exception? failure = null;
        try
        {
            var list = entry.ConfigList();
            var bridge = NetworkKind.Of(list).Interface.HostBridge;
            using var bridgeLock = bridge is null ? null : await bridges.LockAsync(bridge, stopping).ConfigureAwait(false);
            await runtime.DelNetworkListAsync(list, entry.ToRuntimeConf(netnsPath), cni, stopping).ConfigureAwait(false);
            NetnsHolds.Release(entry.Facts.Hold);
            await releaser.RemoveBridgeIfUnusedAsync(bridge).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CniException or IOException or ConfigException)
        {
            failure = e;
        }
        if (failure is not null)
        {
            // Never leave an attachment that blocks the container's next start: release what can be released,
            // report the rest.
            logger.LogWarning("{Key}: DEL failed ({Error}); releasing what can be released", key, failure.Message);
            var problems = await releaser.ForgetAsync(entry, netnsPath, cni, stopping).ConfigureAwait(false);
            response.Warnings.Add($"teardown of {key} was incomplete: {failure.Message}");
            response.Warnings.AddRange(problems.Skip(1).Select(p => $"also: {p}"));
        }
        logger.LogInformation("detached {Key} for {Caller}{Note}", key, call.Caller.Describe(),
            netnsPath.Length == 0 ? " (its namespace is gone: addresses released only)" : "");
        return response;
    }

    private static AttachmentFacts Facts(CallerIdentity caller, SetupRequest request, ResourceConfig resource, OpenedNetns netns, string held) => new()
    {
        Uid = caller.Uid,
        User = caller.UserName,
        Pid = caller.Pid,
        Resource = resource.Name,
        ContainerId = request.ContainerId,
        ContainerName = request.ContainerName,
        CallerNetns = request.NetnsPath,
        NetnsInode = netns.Inode,
        BootId = NetnsLiveness.BootId,
        Hold = held,
        Created = DateTimeOffset.UtcNow,
    };

    private OpenedNetns OpenNetns(PeerProcess peer, string path)
    {
        try
        {
            return opener.Open(peer, path);
        }
        catch (NetnsException e)
        {
            throw AttachmentErrors.ForNetns(e);
        }
    }

    /// <summary>
    /// The caller's namespace for a teardown, if it is still the one attached; anything else the caller names is left
    /// alone (with a warning), and a namespace that is gone simply means there is nothing inside to remove.
    /// </summary>
    private OpenedNetns? OpenForTeardown(PeerProcess peer, string path, AttachmentRecord entry, AttachmentKey key, TeardownResponse response)
    {
        try
        {
            var netns = path.Length == 0 ? null : opener.OpenIfExists(peer, path);
            if (netns is not null && entry.Facts.NetnsInode != netns.Inode)
            {
                response.Warnings.Add($"netns {path} is not the namespace {key} was attached in; it is left alone");
                netns.Dispose();
                return null;
            }
            return netns;
        }
        catch (NetnsException e)
        {
            response.Warnings.Add($"{e.Message}; it is left alone");
            return null;
        }
    }

    /// <summary>Reads the attachment's record; an unreadable one is moved aside (it must not block anything).</summary>
    private bool TryReadRecord(AttachmentKey key, out AttachmentRecord? entry, out string problem)
    {
        entry = runtime.Attachments.ReadOrSetAside(key.Record, out var unreadable);
        problem = unreadable ?? "";
        if (unreadable is not null)
        {
            logger.LogWarning("{Key}: its attachment record was unreadable ({Error}); moved aside", key, unreadable);
        }
        return unreadable is null;
    }

    /// <summary>
    /// An attachment recorded for this key is a leftover: an earlier run of the container that was never torn down
    /// (crash, kill -9, reboot) or an ADD that never finished. Release it so the new setup starts clean.
    /// </summary>
    private async Task ReleaseLeftoverAsync(AttachmentKey key, OpenedNetns netns, CniRuntimeOptions cni, CancellationToken cancellationToken)
    {
        if (!TryReadRecord(key, out var existing, out _) || existing is null)
        {
            return;
        }
        var sameNamespace = existing.Facts.NetnsInode == netns.Inode;
        if (existing.Complete && sameNamespace)
        {
            throw RpcErrors.Of(StatusCode.AlreadyExists, $"{key} is already attached in this network namespace; tear it down first");
        }
        logger.LogWarning("{Key}: releasing a leftover attachment from an earlier start ({State})", key,
            existing.Complete ? "never torn down" : "setup never finished");
        var problems = await releaser.ForgetAsync(existing, AttachmentReleaser.DelNamespace(existing, sameNamespace ? netns : null), cni, cancellationToken)
            .ConfigureAwait(false);
        if (problems.Count > 0)
        {
            logger.LogWarning("{Key}: the leftover could not be released completely: {Problems}", key, string.Join("; ", problems));
        }
    }
}
