using Grpc.Core;
using Porter.Plugin.Cli;
using Porter.Plugin.Commands;
using Porter.Protocol;
using Porter.Protocol.V1;

namespace Porter.Plugin.Netns;

/// <summary>
/// `net-porter netns up NAME`, as root (a unit's ExecStart): makes /run/netns/NAME (or uses the one an earlier `up`
/// made, or adopts a foreign one if the file allows), asks the server to attach what the file lists, writes
/// /etc/netns/NAME/resolv.conf and prints the addresses. It runs here and not in the server because the server may
/// have a mount namespace of its own (systemd), from which a mount would never reach the host.
///
/// The result always matches the file: attachments an earlier `up` left under this name are detached first. If any
/// attachment fails, everything this run did is undone (the attachments, and the namespace if net-porter made it).
/// </summary>
public static class NetnsUp
{
    public static async Task<int> RunAsync(string name, string? filePath, string? socket, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        NamedNetns.Validate(name);
        NamedNetns.RequireRoot("up");
        var path = filePath ?? NetnsFile.DefaultPath(name);
        var file = NetnsFile.Load(path);
        using var client = new PorterClient(CliOptions.LocateSocket(socket), PluginContext.AttachTimeout);
        using var nameLock = NamedNetns.LockName(name);

        var ownership = Prepare(name, file.Adopt, path);
        var netnsPath = NamedNetns.PathOf(name);
        var statuses = new List<(NetnsAttachment Attachment, StatusBlock Status)>();
        try
        {
            // Leftovers of an earlier up (it crashed, or up runs twice): the namespace then holds what the file says, once.
            await DetachAllAsync(client, name, stderr, quietWhenNothing: true, cancellationToken).ConfigureAwait(false);
            foreach (var attachment in file.Attachments)
            {
                var request = new AttachRequest
                {
                    Resource = attachment.Resource,
                    NetnsPath = netnsPath,
                    NetnsName = name,
                    InterfaceName = attachment.InterfaceName ?? "",
                    StaticMac = attachment.Mac ?? "",
                };
                request.StaticIps.AddRange(attachment.Ips ?? []);
                var reply = await client.AttachAsync(request, cancellationToken).ConfigureAwait(false);
                statuses.Add((attachment, reply.Status));
            }
            var wroteResolvConf = ResolvConf.Write(name, statuses.Select(s => s.Status));

            stdout.WriteLine($"netns {name}: {netnsPath} ({ownership switch { Ownership.Made => "made", Ownership.Reused => "made earlier, used again", _ => "adopted" }})");
            foreach (var (attachment, status) in statuses)
            {
                stdout.WriteLine($"  resource {attachment.Resource}:");
                AttachOutput.Print(stdout, status, "    ");
            }
            if (wroteResolvConf)
            {
                stdout.WriteLine($"  resolv.conf: {ResolvConf.PathOf(name)}");
            }
            else
            {
                stderr.WriteLine($"net-porter: warning: no attachment of netns {name} reported a DNS server, so {ResolvConf.PathOf(name)} was not written");
            }
            return 0;
        }
        catch (Exception e) when (e is RpcException or PluginException or IOException or UnauthorizedAccessException)
        {
            var done = statuses.Count;
            stderr.WriteLine($"net-porter: netns up {name} failed after {done} of {file.Attachments.Count} attachments; undoing it");
            await UndoAsync(client, name, ownership, stderr).ConfigureAwait(false);
            if (e is RpcException rpc && done < file.Attachments.Count)
            {
                var failed = file.Attachments[done];
                throw new PluginException($"attaching resource '{failed.Resource}' ({failed.InterfaceName ?? "eth0"}) failed: {rpc.Describe()}");
            }
            throw;
        }
    }

    /// <summary>Makes, reuses or adopts /run/netns/NAME, refusing a foreign namespace unless the file allows adopting it.</summary>
    private static Ownership Prepare(string name, bool adopt, string filePath)
    {
        var (exists, inode) = NamedNetns.Inspect(name);
        var marker = NamedNetns.ReadMarker(name);
        var netnsPath = NamedNetns.PathOf(name);
        if (!exists)
        {
            // A marker without its namespace is stale (someone ran `ip netns del`): forget it and start anew.
            NamedNetns.WriteMarker(name, new Marker(0, Adopted: false));
            var made = NamedNetns.Create(name);
            NamedNetns.WriteMarker(name, new Marker(made, Adopted: false));
            return Ownership.Made;
        }
        if (inode is not { } current)
        {
            throw new PluginException($"{netnsPath} exists but is not a network namespace (a leftover file?); remove it, or choose another name");
        }
        if (marker is not null && (marker.Inode == current || marker.Inode == 0))
        {
            if (marker.Inode == 0)
            {
                NamedNetns.WriteMarker(name, marker with { Inode = current });
            }
            return marker.Adopted ? Ownership.Adopted : Ownership.Reused;
        }
        if (!adopt)
        {
            throw new PluginException(
                $"{netnsPath} already exists and net-porter did not make it; refusing to use a foreign namespace: set \"adopt\": true in {filePath} " +
                "to attach into it anyway (netns down then only detaches, and leaves it in place), or choose another name");
        }
        NamedNetns.WriteMarker(name, new Marker(current, Adopted: true));
        return Ownership.Adopted;
    }

    /// <summary>Back to nothing: detach what is attached under the name, remove the namespace if net-porter made it, the marker and resolv.conf.</summary>
    private static async Task UndoAsync(PorterClient client, string name, Ownership ownership, TextWriter stderr)
    {
        try
        {
            await DetachAllAsync(client, name, stderr, quietWhenNothing: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            // The namespace goes below; the server's garbage collection then releases what it could not detach now.
            stderr.WriteLine($"net-porter: warning: detaching netns {name} failed: {e.Describe()}");
        }
        try
        {
            if (ownership != Ownership.Adopted)
            {
                NamedNetns.Remove(name);
            }
            NamedNetns.DeleteMarker(name);
            ResolvConf.Remove(name);
        }
        catch (Exception e) when (e is PluginException or IOException)
        {
            stderr.WriteLine($"net-porter: warning: cleaning up netns {name} failed: {e.Message}");
        }
    }

    /// <summary>Every attachment recorded under the name, released by the server (in its hold if the namespace is gone).</summary>
    public static async Task DetachAllAsync(PorterClient client, string name, TextWriter stderr, bool quietWhenNothing, CancellationToken cancellationToken)
    {
        var reply = await client.DetachAsync(new DetachRequest { NetnsName = name }, cancellationToken).ConfigureAwait(false);
        foreach (var warning in reply.Warnings)
        {
            if (!(quietWhenNothing && warning.StartsWith("nothing of yours is attached", StringComparison.Ordinal)))
            {
                stderr.WriteLine($"net-porter: warning: {warning}");
            }
        }
    }
}
