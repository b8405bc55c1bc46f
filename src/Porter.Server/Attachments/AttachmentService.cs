using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Porter.Protocol.Grpc;
using Porter.Protocol.V1;
using Porter.Server.Authorization;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Invocation;
using Porter.Server.Cni.Runtime;
using Porter.Server.Cni.Types;
using Porter.Server.Configuration;
using Porter.Server.Identity;
using Porter.Server.Limits;
using Porter.Server.Namespaces;
using Porter.Server.Netavark;
using Porter.Server.Rpc;

namespace Porter.Server.Attachments;

/// <summary>
/// The attach/detach workflow behind Create, Setup and Teardown: authorize, verify the namespace, run the CNI
/// list, and keep the cache consistent whatever happens (a failed or abandoned ADD is undone before answering).
/// </summary>
public sealed class AttachmentService(
    ConfigStore store,
    CniRuntime runtime,
    NetnsOpener opener,
    NetnsHolds holds,
    HostBridges bridges,
    KeyedLocks locks,
    UserLimits limits,
    IHostApplicationLifetime lifetime,
    ILogger<AttachmentService> logger)
{
    public async Task<CreateResponse> CreateAsync(CreateRequest request, CallContext call)
    {
        var (_, network, _) = Authorize(store.Current, call.Caller, request.Resource);
        string version;
        try
        {
            version = await runtime.NegotiateVersionAsync(network, call.Aborted).ConfigureAwait(false);
        }
        catch (CniException e)
        {
            throw new RpcException(StatusCode.FailedPrecondition, $"resource '{network.Name}' cannot be used: {e.Message}");
        }
        var ipam = network.MainPlugin.IpamType;
        var podmanAssigns = request.Network is { } n && n.Subnets.Count > 0 && n.IpamDriver is "" or "host-local";
        if (podmanAssigns && ipam is not ("static" or "host-local"))
        {
            var how = ipam is null ? "no IPAM at all" : $"{ipam} IPAM";
            throw new RpcException(StatusCode.FailedPrecondition,
                $"resource '{network.Name}' assigns addresses with {how}, but this network has subnets, so podman would " +
                "assign addresses as well: create the network without --subnet");
        }
        var response = new CreateResponse { Resource = network.Name, CniVersion = version, IpamType = ipam ?? "" };
        response.PluginTypes.AddRange(network.Plugins.Select(p => p.Type));
        return response;
    }

    public async Task<SetupResponse> SetupAsync(SetupRequest request, CallContext call)
    {
        RequestValidator.ContainerId(request.ContainerId);
        RequestValidator.ContainerName(request.ContainerName);
        RequestValidator.InterfaceName(request.InterfaceName);
        var (resource, network, decision) = Authorize(store.Current, call.Caller, request.Resource);
        var plan = AttachmentPlan.For(network, request, call.Caller.Uid);
        CheckStaticAddresses(request, decision, call.Caller, resource.Name);
        using var netns = OpenNetns(call.Peer, request.NetnsPath);
        var key = new AttachmentKey(call.Caller.Uid, resource.Name, request.ContainerId, request.InterfaceName);
        using var keyLock = await locks.AcquireAsync(key.LockKey, call.Aborted).ConfigureAwait(false);

        // From here on the client's cancellation no longer stops the work: an ADD is finished or undone, never left half-made.
        var stopping = lifetime.ApplicationStopping;
        await ReleaseLeftoverAsync(key, netns, stopping).ConfigureAwait(false);
        CheckAttachmentLimit(call.Caller);

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
        var keepHold = NeedsHeldNetns(network);
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
        var annotations = new JsonObject
        {
            ["uid"] = call.Caller.Uid,
            ["user"] = call.Caller.UserName,
            ["pid"] = call.Caller.Pid,
            ["resource"] = resource.Name,
            ["containerId"] = request.ContainerId,
            ["containerName"] = request.ContainerName,
            ["callerNetns"] = request.NetnsPath,
            ["netnsInode"] = netns.Inode,
            ["bootId"] = NetnsLiveness.BootId,
            ["held"] = held,
            ["created"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };

        CniResult result;
        try
        {
            result = await runtime.AddNetworkListAsync(network, rt, annotations, stopping).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CniException or IOException)
        {
            var rollbackProblem = await RollbackAsync(network, rt, key).ConfigureAwait(false);
            if (bridge is not null)
            {
                await bridges.RemoveIfUnusedAsync(bridge, runtime.Cache).ConfigureAwait(false);
            }
            throw Failure(e, $"setup of {key} failed{Explain(e, network)}", rollbackProblem);
        }
        if (call.Aborted.IsCancellationRequested)
        {
            // Nobody will read the answer, and netavark never tears down a setup it saw fail: undo it now.
            var rollbackProblem = await RollbackAsync(network, rt, key).ConfigureAwait(false);
            logger.LogWarning("{Key}: the caller went away before setup finished; rolled back{Problem}", key,
                rollbackProblem is null ? "" : $" (incompletely: {rollbackProblem})");
            throw new RpcException(StatusCode.Cancelled, $"the caller went away before setup of {key} finished; it was rolled back");
        }
        if (!keepHold)
        {
            NetnsHolds.Release(held);
            ForgetHold(key);
        }
        var subnets = request.Network?.Subnets.Select(n => (n.Subnet, n.Gateway)).ToList();
        var status = StatusBlockBuilder.Build(result, key.IfName, subnets);
        if (network.UsesDhcp && status.DnsServerIps.Count == 0)
        {
            await AddDhcpDnsAsync(status, netns, key, network).ConfigureAwait(false);
        }
        if (resource.SlaacWait > TimeSpan.Zero && status.Interfaces.TryGetValue(key.IfName, out var slaacInterface))
        {
            await SlaacProbe.AddAsync(slaacInterface, netns.ProcPath, key.IfName, resource.SlaacWait, stopping).ConfigureAwait(false);
        }
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
        using var keyLock = await locks.AcquireAsync(key.LockKey, call.Aborted).ConfigureAwait(false);
        var response = new TeardownResponse();

        // Only the caller's own attachments are found: the cache key carries their uid. No grant is needed to
        // detach, so a revoked grant or a removed resource never strands an attachment.
        CacheEntry? entry;
        try
        {
            entry = runtime.Cache.Read(key.Resource, key.ScopedContainerId, key.IfName);
        }
        catch (FormatException e)
        {
            runtime.Cache.Quarantine(runtime.Cache.PathFor(key.Resource, key.ScopedContainerId, key.IfName));
            response.Warnings.Add($"the record of {key} was unreadable and was moved aside; nothing could be released ({e.Message})");
            return response;
        }
        if (entry is null)
        {
            response.Warnings.Add($"nothing is attached for {key}");
            return response;
        }

        OpenedNetns? netns = null;
        try
        {
            netns = request.NetnsPath.Length == 0 ? null : opener.OpenIfExists(call.Peer, request.NetnsPath);
            if (netns is not null && entry.Annotations["netnsInode"]?.GetValue<ulong>() != netns.Inode)
            {
                response.Warnings.Add($"netns {request.NetnsPath} is not the namespace {key} was attached in; it is left alone");
                netns.Dispose();
                netns = null;
            }
        }
        catch (NetnsException e)
        {
            response.Warnings.Add($"{e.Message}; it is left alone");
        }

        using (netns)
        {
            var netnsPath = DelNamespace(entry, netns);
            var held = entry.Annotations["held"]?.GetValue<string>() ?? "";
            var stopping = lifetime.ApplicationStopping;
            Exception? failure = null;
            try
            {
                var list = NetworkConfigList.FromBytes(entry.Config, runtime.Cache.PathFor(entry.NetworkName, entry.ContainerId, entry.IfName));
                var bridge = HostBridges.BridgeOf(list);
                using var bridgeLock = bridge is null ? null : await bridges.LockAsync(bridge, stopping).ConfigureAwait(false);
                await runtime.DelNetworkListAsync(list, entry.ToRuntimeConf(netnsPath), stopping).ConfigureAwait(false);
                NetnsHolds.Release(held);
                if (bridge is not null && await bridges.RemoveIfUnusedAsync(bridge, runtime.Cache).ConfigureAwait(false) is { } note)
                {
                    logger.LogInformation("{Note}", note);
                }
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
                var problems = await ForgetAsync(entry, netnsPath, stopping).ConfigureAwait(false);
                response.Warnings.Add($"teardown of {key} was incomplete: {failure.Message}");
                response.Warnings.AddRange(problems.Skip(1).Select(p => $"also: {p}"));
            }
            logger.LogInformation("detached {Key} for {Caller}{Note}", key, call.Caller.Describe(),
                netnsPath.Length == 0 ? " (its namespace is gone: addresses released only)" : "");
        }
        return response;
    }

    private static (ResourceConfig Resource, NetworkConfigList Network, AccessDecision Decision) Authorize(
        ServerSnapshot snapshot, CallerIdentity caller, string name)
    {
        RequestValidator.Resource(name);
        var resource = snapshot.Config.FindResource(name)
            ?? throw new RpcException(StatusCode.NotFound, $"resource '{name}' is not configured on this server");
        var decision = AccessPolicy.Decide(resource, caller);
        if (!decision.Allowed)
        {
            throw new RpcException(StatusCode.PermissionDenied, decision.Reason);
        }
        return (resource, snapshot.Networks[resource.Name], decision);
    }

    private void CheckAttachmentLimit(CallerIdentity caller)
    {
        if (caller.IsRoot)
        {
            return;
        }
        var held = runtime.Cache.List().Entries.Count(e => e.Annotations["uid"]?.GetValue<uint>() == caller.Uid);
        if (held >= limits.AttachmentsPerUser)
        {
            throw new RpcException(StatusCode.ResourceExhausted,
                $"{caller.Describe()} already has {held} attachments (limit {limits.AttachmentsPerUser}); tear some down first");
        }
    }

    /// <summary>Static IPs and MACs are the caller's choice, so each must lie inside what their grants allow.</summary>
    private static void CheckStaticAddresses(SetupRequest request, AccessDecision decision, CallerIdentity caller, string resource)
    {
        foreach (var text in request.StaticIps)
        {
            var ip = RequestValidator.StaticIp(text);
            if (!decision.Ips.Any(range => range.Contains(ip)))
            {
                throw new RpcException(StatusCode.PermissionDenied, decision.Ips.IsEmpty
                    ? $"{caller.Describe()} may not request static IPs on resource '{resource}' (no \"ips\" are granted)"
                    : $"static IP {ip} is outside what {caller.Describe()} may request on resource '{resource}' ({string.Join(", ", decision.Ips)})");
            }
        }
        if (request.StaticMac.Length > 0)
        {
            var mac = RequestValidator.StaticMac(request.StaticMac);
            if (!decision.Macs.Any(range => range.Contains(mac)))
            {
                throw new RpcException(StatusCode.PermissionDenied, decision.Macs.IsEmpty
                    ? $"{caller.Describe()} may not request a static MAC on resource '{resource}' (no \"macs\" are granted)"
                    : $"static MAC {mac} is outside what {caller.Describe()} may request on resource '{resource}' ({string.Join(", ", decision.Macs)})");
            }
        }
    }

    private OpenedNetns OpenNetns(PeerProcess peer, string path)
    {
        try
        {
            return opener.Open(peer, path);
        }
        catch (NetnsException e)
        {
            throw new RpcException(e.Problem switch
            {
                NetnsProblem.NotFound => StatusCode.NotFound,
                NetnsProblem.NotOwned => StatusCode.PermissionDenied,
                NetnsProblem.CallerGone => StatusCode.Cancelled,
                _ => StatusCode.InvalidArgument,
            }, e.Message);
        }
    }

    /// <summary>
    /// An attachment recorded for this key is a leftover: an earlier run of the container that was never torn down
    /// (crash, kill -9, reboot) or an ADD that never finished. Release it so the new setup starts clean.
    /// </summary>
    private async Task ReleaseLeftoverAsync(AttachmentKey key, OpenedNetns netns, CancellationToken cancellationToken)
    {
        CacheEntry? existing;
        try
        {
            existing = runtime.Cache.Read(key.Resource, key.ScopedContainerId, key.IfName);
        }
        catch (FormatException e)
        {
            // An unreadable record cannot be released, but it must not block the container either.
            runtime.Cache.Quarantine(runtime.Cache.PathFor(key.Resource, key.ScopedContainerId, key.IfName));
            logger.LogWarning("{Key}: its attachment record was unreadable ({Error}); moved aside", key, e.Message);
            return;
        }
        if (existing is null)
        {
            return;
        }
        var sameNamespace = existing.Annotations["netnsInode"]?.GetValue<ulong>() == netns.Inode;
        if (existing.Complete && sameNamespace)
        {
            throw new RpcException(StatusCode.AlreadyExists, $"{key} is already attached in this network namespace; tear it down first");
        }
        logger.LogWarning("{Key}: releasing a leftover attachment from an earlier start ({State})", key,
            existing.Complete ? "never torn down" : "setup never finished");
        var problems = await ForgetAsync(existing, sameNamespace ? netns.ProcPath : DelNamespace(existing, null), cancellationToken).ConfigureAwait(false);
        if (problems.Count > 0)
        {
            logger.LogWarning("{Key}: the leftover could not be released completely: {Problems}", key, string.Join("; ", problems));
        }
    }

    /// <summary>DEL after a failed or abandoned ADD. Returns what went wrong, or null when everything was undone.</summary>
    private async Task<string?> RollbackAsync(NetworkConfigList network, RuntimeConf rt, AttachmentKey key)
    {
        try
        {
            var problems = await runtime.ReleaseNetworkListAsync(network, rt, CancellationToken.None).ConfigureAwait(false);
            if (problems.Count == 0)
            {
                return null;
            }
            logger.LogError("{Key}: rollback after a failed setup did not complete: {Problems}", key, string.Join("; ", problems));
            return string.Join("; ", problems);
        }
        finally
        {
            NetnsHolds.Release(rt.NetNs);
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

    /// <summary>The DNS servers and search domains of a DHCP LAN, asked for with DHCPINFORM (best effort: none if no answer).</summary>
    private async Task AddDhcpDnsAsync(StatusBlock status, OpenedNetns netns, AttachmentKey key, NetworkConfigList network)
    {
        var (name, iface) = status.Interfaces.FirstOrDefault();
        var leased = iface?.Subnets.Select(s => s.Ipnet.Split('/')[0])
            .Select(a => System.Net.IPAddress.TryParse(a, out var ip) ? ip : null)
            .FirstOrDefault(ip => ip?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
        if (iface is null || leased is null || !Authorization.MacRange.TryParseMac(iface.MacAddress, out var macValue))
        {
            return;
        }
        var mac = BitConverter.GetBytes(macValue).Take(6).Reverse().ToArray();
        try
        {
            var info = await Dhcp.DhcpInform.QueryAsync(netns.Handle, name, leased, mac,
                $"{key.ScopedContainerId}/{network.Name}/{key.IfName}", TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            if (info is null)
            {
                logger.LogDebug("{Key}: no answer to DHCPINFORM; no DNS settings from the LAN", key);
                return;
            }
            status.DnsServerIps.AddRange(info.Servers);
            status.DnsSearchDomains.AddRange(info.SearchDomains.Where(d => !status.DnsSearchDomains.Contains(d)));
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            logger.LogDebug("{Key}: DHCPINFORM failed: {Error}", key, e.Message);
        }
    }

    /// <summary>Plain words for plugin errors whose cause is not obvious from their own message.</summary>
    private static string Explain(Exception e, NetworkConfigList network) =>
        network.UsesDhcp && e.Message.Contains("no more tries", StringComparison.Ordinal)
            ? $": no DHCP server answered on the network of resource '{network.Name}'"
            : "";

    /// <summary>Namespaces some later DEL must run inside: DHCP, and bridges that masquerade.</summary>
    private static bool NeedsHeldNetns(NetworkConfigList network) => network.UsesDhcp || HostBridges.MasqueradesFromInside(network);

    /// <summary>
    /// Releases an attachment as far as it goes and forgets it, whatever fails: for teardown after a strict DEL
    /// failed, for leftovers in the way of a new setup, and for garbage collection. Returns what could not be released.
    /// </summary>
    public async Task<IReadOnlyList<string>> ForgetAsync(CacheEntry entry, string netnsPath, CancellationToken cancellationToken)
    {
        var held = entry.Annotations["held"]?.GetValue<string>() ?? "";
        NetworkConfigList list;
        try
        {
            list = NetworkConfigList.FromBytes(entry.Config, runtime.Cache.PathFor(entry.NetworkName, entry.ContainerId, entry.IfName));
        }
        catch (ConfigException e)
        {
            // The cached configuration itself is unreadable: nothing can be run, but the record must not block anything.
            runtime.Cache.Delete(entry.NetworkName, entry.ContainerId, entry.IfName);
            NetnsHolds.Release(held);
            return [$"the recorded configuration is unreadable ({e.Message}); the record was dropped"];
        }
        var bridge = HostBridges.BridgeOf(list);
        using var bridgeLock = bridge is null ? null : await bridges.LockAsync(bridge, cancellationToken).ConfigureAwait(false);
        try
        {
            return await runtime.ReleaseNetworkListAsync(list, entry.ToRuntimeConf(netnsPath), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            NetnsHolds.Release(held);
            if (bridge is not null && await bridges.RemoveIfUnusedAsync(bridge, runtime.Cache).ConfigureAwait(false) is { } note)
            {
                logger.LogInformation("{Note}", note);
            }
        }
    }

    /// <summary>The namespace path to DEL in: the caller's (if it is still the one attached), else our hold, else none.</summary>
    private static string DelNamespace(CacheEntry entry, OpenedNetns? current)
    {
        if (current is not null && entry.Annotations["netnsInode"]?.GetValue<ulong>() == current.Inode)
        {
            return current.ProcPath;
        }
        var held = entry.Annotations["held"]?.GetValue<string>() ?? "";
        return NetnsHolds.IsHeld(held) ? held : "";
    }

    private static RpcException Failure(Exception e, string context, string? rollbackProblem)
    {
        var status = e switch
        {
            CniTimeoutException => StatusCode.DeadlineExceeded,
            CniException or ConfigException => StatusCode.FailedPrecondition,
            _ => StatusCode.Internal,
        };
        var message = $"{context}: {e.Message}";
        if (rollbackProblem is not null)
        {
            message += $" (undoing it failed too: {rollbackProblem})";
        }
        return new RpcException(status, message);
    }
}
