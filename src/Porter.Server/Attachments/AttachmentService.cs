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
using Porter.Server.Diagnostics;
using Porter.Server.Drivers;
using Porter.Server.Identity;
using Porter.Server.Json;
using Porter.Server.Namespaces;
using Porter.Server.Netavark;

namespace Porter.Server.Attachments;

/// <summary>
/// Setup and Teardown (netavark's), Attach and Detach (net-porter's own, by process or path): authorize, verify the namespace, run the CNI list, and keep the record consistent whatever
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
    LeaseStates leases,
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
        var (resource, network, decision) = RequestAccess.Authorize(snapshot, call.Caller, request.Resource);
        var kind = NetworkKind.Of(network, resource.Segment);
        var plan = AttachmentPlan.For(network, kind, request, call.Caller.Uid);
        RequestAccess.CheckStaticAddresses(request, decision, call.Caller, resource.Name);
        RequestTimings.Lap("authorize");
        using var netns = OpenNetns(call.Peer, request.NetnsPath);
        RequestTimings.Lap("netns");
        return await AttachOpenedAsync(new AttachOrder(snapshot, resource, network, kind, plan, request, AttachmentSubject.Container), netns, call)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Attach: the namespace of a process or one at a path, attached exactly as a container's is (same grant, static
    /// address bounds, limits, rollback, records and hold). The attachment's container id is "ns-&lt;inode&gt;": the
    /// namespace is held while attached, so its inode cannot pass to another namespace before the record is gone.
    /// </summary>
    public async Task<SetupResponse> AttachAsync(AttachRequest request, CallContext call)
    {
        var ifName = request.InterfaceName.Length == 0 ? DefaultInterface : request.InterfaceName;
        RequestValidator.InterfaceName(ifName);
        if (request.NetnsName.Length > 0)
        {
            RequestValidator.NetnsName(request.NetnsName);
        }
        var snapshot = store.Current;
        var (resource, network, decision) = RequestAccess.Authorize(snapshot, call.Caller, request.Resource);
        var kind = NetworkKind.Of(network, resource.Segment);
        RequestValidator.StaticIpCount(request.StaticIps.Count);
        var (addresses, subnets) = RequestValidator.AttachAddresses(request.StaticIps);
        if (kind.Ipam.StaticIpsNeedPrefix && request.StaticIps.FirstOrDefault(ip => !ip.Contains('/', StringComparison.Ordinal)) is { } bare)
        {
            throw RequestValidator.Invalid(
                $"static IP {bare} has no prefix length; resource '{resource.Name}' uses static IPAM, which needs one: give it as {bare}/PREFIX");
        }
        var setup = new SetupRequest
        {
            Resource = resource.Name,
            InterfaceName = ifName,
            StaticMac = request.StaticMac,
            ContainerName = request.NetnsName,
            Network = new Network(),
        };
        setup.StaticIps.AddRange(addresses);
        setup.Network.Subnets.AddRange(subnets.Select(s => new NetworkSubnet { Subnet = s }));
        RequestAccess.CheckStaticAddresses(setup, decision, call.Caller, resource.Name);

        var (netns, subject) = OpenTarget(call.Peer, request.TargetCase, request.Pid, request.NetnsPath, request.NetnsName, "attach");
        using (netns)
        {
            setup.ContainerId = ContainerIdOf(netns);
            setup.NetnsPath = netns.CallerPath;
            var plan = AttachmentPlan.For(network, kind, setup, call.Caller.Uid);
            return await AttachOpenedAsync(new AttachOrder(snapshot, resource, network, kind, plan, setup, subject), netns, call).ConfigureAwait(false);
        }
    }

    /// <summary>The interface Attach makes when the caller names none.</summary>
    public const string DefaultInterface = "eth0";

    /// <summary>The container id of an Attach attachment: its namespace's identity for as long as it is held.</summary>
    public static string ContainerIdOf(OpenedNetns netns) => $"ns-{netns.Inode.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>What an attach is to do, decided before the namespace is touched.</summary>
    private sealed record AttachOrder(ServerSnapshot Snapshot, ResourceConfig Resource, NetworkConfigList Network, NetworkKind Kind,
        AttachmentPlan Plan, SetupRequest Request, AttachmentSubject Subject);

    /// <summary>The attach workflow both Setup and Attach end in, once the namespace is open and verified.</summary>
    private async Task<SetupResponse> AttachOpenedAsync(AttachOrder order, OpenedNetns netns, CallContext call)
    {
        var (_, resource, network, kind, plan, request, subject) = order;
        if (HostNetns.Is(netns))
        {
            throw RpcErrors.Of(StatusCode.PermissionDenied, HostNetns.Describe(netns));
        }
        var cni = CniRuntimeOptions.From(order.Snapshot.Config);
        var key = new AttachmentKey(call.Caller.Uid, resource.Name, request.ContainerId, request.InterfaceName);
        using var keyLock = await locks.AcquireAsync(key.LockKey, call.Aborted).ConfigureAwait(false);
        RequestTimings.Lap("lock");

        // From here on the client's cancellation no longer stops the work: an ADD is finished or undone, never left half-made.
        var stopping = lifetime.ApplicationStopping;
        await ReleaseLeftoverAsync(key, netns, cni, stopping).ConfigureAwait(false);
        RequestTimings.Lap("leftover check");
        using var claim = quota.Claim(call.Caller, key);
        RequestTimings.Lap("quota");

        // Attachments on one host bridge take turns, so that a bridge is never removed while a container joins it.
        var bridge = kind.Interface.HostBridge;
        using var bridgeLock = bridge is null ? null : await bridges.LockAsync(bridge, stopping).ConfigureAwait(false);
        if (bridge is not null)
        {
            await bridges.NoteBeforeAddAsync(bridge).ConfigureAwait(false);
            RequestTimings.Lap("bridge lock");
        }

        // Held at a path of our own from before the ADD until the attachment is released: a crash mid-ADD leaves
        // something to undo it in; DHCP renews from inside and masquerading bridges find their NAT rules for DEL only
        // from inside; and while it is held no other namespace can get its inode, so the inode recorded below names
        // this namespace and no later one (the kernel reuses the inodes of freed namespaces).
        var held = holds.Hold(netns, key.Record.Name);
        RequestTimings.Lap("hold");
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
            result = await runtime.AddNetworkListAsync(network, rt, Facts(call.Caller, request, resource, netns, held, subject), cni, stopping).ConfigureAwait(false);
            if (kind.Interface.IsSegment && bridge is not null)
            {
                // Every time, not only when the bridge is new: the seal must hold for as long as anyone is attached.
                await SegmentSeal.SealAsync(bridge).ConfigureAwait(false);
                RequestTimings.Lap("segment seal");
            }
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
        RequestTimings.Lap("status block");
        var addresses = string.Join(", ", status.Interfaces.SelectMany(i => i.Value.Subnets.Select(s => s.Ipnet)));
        if (kind.Ipam.KeepsLease)
        {
            leases.Acquired(key.Record.Name, string.Join(", ", result.Ips.Select(ip => ip.Address)), again: false);
        }
        logger.LogInformation("attached {Key} for {Caller} in netns {Netns}: {Addresses}", key, call.Caller.Describe(), request.NetnsPath, addresses);
        return new SetupResponse { Status = status };
    }

    public async Task<TeardownResponse> TeardownAsync(TeardownRequest request, CallContext call)
    {
        RequestValidator.Resource(request.Resource);
        RequestValidator.ContainerId(request.ContainerId);
        RequestValidator.InterfaceName(request.InterfaceName);
        var key = new AttachmentKey(call.Caller.Uid, request.Resource, request.ContainerId, request.InterfaceName);
        var response = new TeardownResponse();
        OpenedNetns? opened = null;
        try
        {
            await ReleaseAsync(key, call, response, entry => opened = OpenForTeardown(call.Peer, request.NetnsPath, entry, key, response)).ConfigureAwait(false);
        }
        finally
        {
            opened?.Dispose();
        }
        return response;
    }

    /// <summary>
    /// Detach: what Attach attached in the namespace the target names (a process, a path, or the name recorded at
    /// Attach, which also works once the namespace is gone), on one resource and interface or, where those are
    /// empty, on all of them. Only the caller's own attachments are found; no grant is needed.
    /// </summary>
    public async Task<TeardownResponse> DetachAsync(DetachRequest request, CallContext call)
    {
        if (request.Resource.Length > 0)
        {
            RequestValidator.Resource(request.Resource);
        }
        if (request.InterfaceName.Length > 0)
        {
            RequestValidator.InterfaceName(request.InterfaceName);
        }
        var response = new TeardownResponse();
        OpenedNetns? netns = null;
        Func<AttachmentRecord, bool> inTarget;
        string what;
        if (request.TargetCase == DetachRequest.TargetOneofCase.NetnsName)
        {
            RequestValidator.NetnsName(request.NetnsName);
            var name = request.NetnsName;
            inTarget = r => r.Facts.Subject.Kind == SubjectKind.Netns && r.Facts.Subject.NetnsName == name;
            what = $"netns {name}";
        }
        else
        {
            var target = request.TargetCase switch
            {
                DetachRequest.TargetOneofCase.Pid => AttachRequest.TargetOneofCase.Pid,
                DetachRequest.TargetOneofCase.NetnsPath => AttachRequest.TargetOneofCase.NetnsPath,
                _ => AttachRequest.TargetOneofCase.None,
            };
            (netns, _) = OpenTarget(call.Peer, target, request.Pid, request.NetnsPath, "", "detach");
            var scoped = new AttachmentKey(call.Caller.Uid, "", ContainerIdOf(netns), "").ScopedContainerId;
            inTarget = r => r.Id.ContainerId == scoped;
            what = target == AttachRequest.TargetOneofCase.Pid ? $"the network namespace of process {request.Pid}" : $"netns {request.NetnsPath}";
        }
        using (netns)
        {
            var keys = runtime.Attachments.List().Records
                .Where(r => r.Facts.Uid == call.Caller.Uid && inTarget(r))
                .Where(r => request.Resource.Length == 0 || r.Id.Network == request.Resource)
                .Where(r => request.InterfaceName.Length == 0 || r.Id.IfName == request.InterfaceName)
                .Select(r => new AttachmentKey(call.Caller.Uid, r.Id.Network, r.Facts.ContainerId, r.Id.IfName))
                .Distinct()
                .ToList();
            if (keys.Count == 0)
            {
                var on = (request.Resource.Length > 0 ? $" on resource '{request.Resource}'" : "") +
                    (request.InterfaceName.Length > 0 ? $" as {request.InterfaceName}" : "");
                response.Warnings.Add($"nothing of yours is attached in {what}{on}");
                return response;
            }
            foreach (var key in keys)
            {
                await ReleaseAsync(key, call, response, _ => netns).ConfigureAwait(false);
            }
        }
        return response;
    }

    /// <summary>
    /// Releases one attachment of the caller's under its key lock: DEL in the namespace <paramref name="open"/> gives
    /// for the record (if it is still the attached one), else in the server's hold, else only the addresses.
    /// </summary>
    private async Task ReleaseAsync(AttachmentKey key, CallContext call, TeardownResponse response, Func<AttachmentRecord, OpenedNetns?> open)
    {
        var cni = CniRuntimeOptions.From(store.Current.Config);
        using var keyLock = await locks.AcquireAsync(key.LockKey, call.Aborted).ConfigureAwait(false);
        RequestTimings.Lap("lock");

        // Only the caller's own attachments are found: the record's name carries their uid. No grant is needed to
        // detach, so a revoked grant or a removed resource never strands an attachment.
        if (!TryReadRecord(key, out var entry, out var problem))
        {
            response.Warnings.Add($"the record of {key} was unreadable and was moved aside; nothing could be released ({problem})");
            return;
        }
        if (entry is null)
        {
            response.Warnings.Add($"nothing is attached for {key}");
            return;
        }

        RequestTimings.Lap("record read");
        var netns = open(entry);
        var netnsPath = AttachmentReleaser.DelNamespace(entry, netns);
        RequestTimings.Lap("netns");
        var stopping = lifetime.ApplicationStopping;
        Exception? failure = null;
        try
        {
            var list = entry.ConfigList();
            var bridge = NetworkKind.Of(list).Interface.HostBridge;
            using var bridgeLock = bridge is null ? null : await bridges.LockAsync(bridge, stopping).ConfigureAwait(false);
            RequestTimings.Lap("bridge lock");
            await runtime.DelNetworkListAsync(list, entry.ToRuntimeConf(netnsPath), cni, stopping).ConfigureAwait(false);
            holds.Release(entry.Facts.Hold);
            RequestTimings.Lap("hold release");
            await releaser.RemoveBridgeIfUnusedAsync(bridge).ConfigureAwait(false);
            RequestTimings.Lap("bridge removal");
        }
        catch (Exception e) when (e is CniException or IOException or ConfigException)
        {
            failure = e;
        }
        leases.Forget(key.Record.Name);
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
    }

    /// <summary>The namespace Attach or Detach names, verified, and what it is for the record.</summary>
    private (OpenedNetns Netns, AttachmentSubject Subject) OpenTarget(PeerProcess peer, AttachRequest.TargetOneofCase target, int pid, string path,
        string netnsName, string verb)
    {
        try
        {
            switch (target)
            {
                case AttachRequest.TargetOneofCase.Pid:
                    var (netns, processName) = opener.OpenOfProcess(peer, pid);
                    return (netns, new AttachmentSubject(SubjectKind.Process, pid, processName, netnsName));
                case AttachRequest.TargetOneofCase.NetnsPath:
                    return (opener.Open(peer, path), new AttachmentSubject(netnsName.Length > 0 ? SubjectKind.Netns : SubjectKind.Path, NetnsName: netnsName));
                default:
                    throw RequestValidator.Invalid(verb == "detach"
                        ? "detach needs a target: a pid, a netns path or a netns name"
                        : "attach needs a target: a pid or a netns path");
            }
        }
        catch (NetnsException e)
        {
            throw AttachmentErrors.ForNetns(e);
        }
    }

    private static AttachmentFacts Facts(CallerIdentity caller, SetupRequest request, ResourceConfig resource, OpenedNetns netns, string held,
        AttachmentSubject subject) => new()
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
            Subject = subject,
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
