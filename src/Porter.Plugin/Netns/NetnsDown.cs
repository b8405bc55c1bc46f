using Grpc.Core;
using Porter.Plugin.Cli;
using Porter.Plugin.Commands;
using Porter.Protocol;

namespace Porter.Plugin.Netns;

/// <summary>
/// `net-porter netns down NAME`, as root (a unit's ExecStop): detaches everything attached under the name and
/// removes /run/netns/NAME if net-porter made it (an adopted or foreign one is only detached), its marker and its
/// resolv.conf. Nothing to do is no error. If the server cannot be asked, the namespace is removed all the same and
/// the server's garbage collection releases its attachments once it is gone; the exit status then says so.
/// </summary>
public static class NetnsDown
{
    public static async Task<int> RunAsync(string name, string? socket, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        NamedNetns.Validate(name);
        NamedNetns.RequireRoot("down");
        using var nameLock = NamedNetns.LockName(name);
        var exit = 0;
        try
        {
            using var client = new PorterClient(CliOptions.LocateSocket(socket), PluginContext.AttachTimeout);
            await NetnsUp.DetachAllAsync(client, name, stderr, quietWhenNothing: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or PluginException)
        {
            stderr.WriteLine($"net-porter: detaching netns {name} failed ({(e is RpcException rpc ? rpc.Describe() : e.Message)}); " +
                "its attachments are released by the server's garbage collection once the namespace is gone");
            exit = 1;
        }

        var (exists, inode) = NamedNetns.Inspect(name);
        var marker = NamedNetns.ReadMarker(name);
        var netnsPath = NamedNetns.PathOf(name);
        if (!exists)
        {
            stdout.WriteLine($"netns {name}: detached; {netnsPath} does not exist");
        }
        else if (marker is { Adopted: false } && inode is { } current && (marker.Inode == current || marker.Inode == 0))
        {
            NamedNetns.Remove(name);
            stdout.WriteLine($"netns {name}: detached; {netnsPath} removed");
        }
        else if (marker is { Adopted: true } && marker.Inode == inode)
        {
            stdout.WriteLine($"netns {name}: detached; {netnsPath} left in place (adopted, not made by net-porter)");
        }
        else
        {
            stdout.WriteLine($"netns {name}: detached; {netnsPath} left in place (net-porter did not make it)");
        }
        NamedNetns.DeleteMarker(name);
        ResolvConf.Remove(name);
        return exit;
    }
}
