using System.Globalization;
using System.Text.Json.Nodes;
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
        var plan = AttachmentPlan.For(network, request, call.Caller.Uid);
        RequestAccess.CheckStaticAddresses(request, decision, call.Caller, resource.Name);
        using var netns = OpenNetns(call.Peer, request.NetnsPath);
        var key = new AttachmentKey(call.Caller.Uid, resource.Name, request.ContainerId, request.InterfaceName);
        using var keyLock = await locks.AcquireAsync(key.LockKey, call.Aborted).ConfigureAwait(false);

        // From here on the client's cancellation no longer stops the work: an ADD is finished or undone, never left half-made.
        var stopping = lifetime.ApplicationStopping;
        await ReleaseLeftoverAsync(key, netns, cni, stopping).ConfigureAwait(false);
        using var claim = quota.Claim(call.Caller, key);

        // Attachments on one host bridge take turns, so that a bridge is never removed while a container joins it.
        var bridge = HostBridges.BridgeOf(network);
        using var bridgeLock = bridge is null ? null : await bridges.LockAsync(bridge, stopping).ConfigureAwait(false);
        if (bridge is not null)
        {
            await bridges.NoteBeforeAddAsync(bridge).ConfigureAwait(false);
        }

        // Held at a path of our own while the ADD runs (so that even a crash leaves something to undo it in), and
        // for as long as the attachment lives where a later DEL must run inside it: DHCP (the daemon re-enters it to
        // renew) and masquerading bridges (their NAT rules are found from inside).
        var keepHold = network.UsesDhcp || HostBridges.MasqueradesFromInside(network);
        var held = holds.Hold(netns, key.HoldName);
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
            result = await runtime.AddNetworkListAsync(network, rt, Annotations(call.Caller, request, resource, netns, held), cni, stopping).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CniException or IOException)
        {
            var rollbackProblem = await releaser.RollbackAsync(network, rt, key, cni).ConfigureAwait(false);
            await releaser.RemoveBridgeIfUnusedAsync(bridge).ConfigureAwait(false);
            throw AttachmentErrors.Failure(e, $"setup of {key} failed{AttachmentErrors.Explain(e, network)}", rollbackProblem);
        }
        if (call.Aborted.IsCancellationRequested)
        {
            // Nobody will read the answer, and netavark never tears down a setup it saw fail: undo it now.
            var rollbackProblem = await releaser.RollbackAsync(network, rt, key, cni).ConfigureAwait(false);
            logger.LogWarning("{Key}: the caller went away before setup finished; rolled back{Problem}", key,
                rollbackProblem is null ? "" : $" (incompletely: {rollbackProblem})");
            throw RpcErrors.Of(StatusCode.Cancelled, $"the caller went away before setup of {key} finished; it was rolled back");
        }
        if (!keepHold)
        {
            NetnsHolds.Release(held);
            ForgetHold(key);
        }

        var subnets = request.Network?.Subnets.Select(n => (n.Subnet, n.Gateway)).ToList();
        var status = StatusBlockBuilder.Build(result, key.IfName, subnets);
        await enricher.EnrichAsync(status, resource, network, netns, key, stopping).ConfigureAwait(false);
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
            var list = NetworkConfigList.FromBytes(entry.Config, runtime.Cache.PathFor(entry.NetworkName, entry.ContainerId, entry.IfName));
            var bridge = HostBridges.BridgeOf(list);
            using var bridgeLock = bridge is null ? null : await bridges.LockAsync(bridge, stopping).ConfigureAwait(false);
            await runtime.DelNetworkListAsync(list, entry.ToRuntimeConf(netnsPath), cni, stopping).ConfigureAwait(false);
            NetnsHolds.Release(AttachmentReleaser.HeldPath(entry));
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

    private static JsonObject Annotations(CallerIdentity caller, SetupRequest request, Configuration.ResourceConfig resource, OpenedNetns netns, string held) => new()
    {
        ["uid"] = caller.Uid,
        ["user"] = caller.UserName,
        ["pid"] = caller.Pid,
        ["resource"] = resource.Name,
        ["containerId"] = request.ContainerId,
        ["containerName"] = request.ContainerName,
        ["callerNetns"] = request.NetnsPath,
        ["netnsInode"] = netns.Inode,
        ["bootId"] = NetnsLiveness.BootId,
        ["held"] = held,
        ["created"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
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
    private OpenedNetns? OpenForTeardown(PeerProcess peer, string path, CacheEntry entry, AttachmentKey key, TeardownResponse response)
    {
        try
        {
            var netns = path.Length == 0 ? null : opener.OpenIfExists(peer, path);
            if (netns is not null && entry.Annotations["netnsInode"]?.GetValue<ulong>() != netns.Inode)
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
    private bool TryReadRecord(AttachmentKey key, out CacheEntry? entry, out string problem)
    {
        entry = runtime.Cache.ReadOrSetAside(key.Resource, key.ScopedContainerId, key.IfName, out var unreadable);
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
        var sameNamespace = existing.Annotations["netnsInode"]?.GetValue<ulong>() == netns.Inode;
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

    /// <summary>Records that the attachment no longer holds its namespace (the hold was only needed during ADD).</summary>
    private void ForgetHold(AttachmentKey key)
    {
        if (runtime.Cache.Read(key.Resource, key.ScopedContainerId, key.IfName) is { } entry)
        {
            var annotations = entry.Annotations.DeepClone().AsObject();
            annotations["held"] = "";
            runtime.Cache.Write(entry with { NetNs = "", Annotations = annotations });
        }
    }
}
