using Porter.Server.Cni.Runtime;
using Porter.Server.Drivers;
using Porter.Server.Json;
using Porter.Server.Namespaces;

namespace Porter.Server.Attachments;

/// <summary>
/// Host bridges made by the CNI bridge plugin for a resource: attachments on one bridge are serialised (so that a
/// bridge is never removed while a container is being added to it), and a bridge net-porter created is removed with
/// its last attachment — unless something else was plugged into it. A bridge that existed before is never touched.
/// </summary>
public sealed class HostBridges(string stateDir, KeyedLocks locks)
{
    private string MarkerDir => Path.Combine(stateDir, "bridges");

    public Task<IDisposable> LockAsync(string bridge, CancellationToken cancellationToken) => locks.AcquireAsync($"bridge:{bridge}", cancellationToken);

    /// <summary>Before an ADD: remember whether the bridge is about to be created by us.</summary>
    public async Task NoteBeforeAddAsync(string bridge)
    {
        if (await IpCommand.QueryAsync(null, "link", "show", "dev", bridge).ConfigureAwait(false) is null)
        {
            Directory.CreateDirectory(MarkerDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            await File.WriteAllTextAsync(Path.Combine(MarkerDir, bridge), "created by net-porter\n").ConfigureAwait(false);
        }
    }

    /// <summary>After a DEL: remove a bridge we created once no attachment and no foreign port uses it. Returns what was done.</summary>
    public async Task<string?> RemoveIfUnusedAsync(string bridge, AttachmentStore attachments)
    {
        var marker = Path.Combine(MarkerDir, bridge);
        if (!File.Exists(marker))
        {
            return null;
        }
        // Read under the bridge lock, which every setup and release of this bridge's attachments holds.
        var (entries, unreadable) = attachments.List();
        if (unreadable.Count > 0)
        {
            return $"bridge {bridge} was left in place: an attachment record is unreadable, and it may use the bridge";
        }
        var stillUsed = entries.Any(e =>
        {
            try
            {
                return NetworkKind.Of(e.ConfigList()).Interface.HostBridge == bridge;
            }
            catch (ConfigException)
            {
                return false;
            }
        });
        if (stillUsed)
        {
            return null;
        }
        var ports = await IpCommand.QueryAsync(null, "link", "show", "master", bridge).ConfigureAwait(false);
        if (ports is { Count: > 0 })
        {
            return $"bridge {bridge} was left in place: something else is plugged into it";
        }
        if (await IpCommand.RunOkAsync("link", "delete", "dev", bridge, "type", "bridge").ConfigureAwait(false)
            || await IpCommand.QueryAsync(null, "link", "show", "dev", bridge).ConfigureAwait(false) is null)
        {
            File.Delete(marker);
            // A segment's seal goes with its bridge (for any other bridge there is nothing to remove).
            await SegmentSeal.RemoveRulesAsync(bridge).ConfigureAwait(false);
            return $"bridge {bridge} removed with its last attachment";
        }
        return $"bridge {bridge} could not be removed";
    }
}
