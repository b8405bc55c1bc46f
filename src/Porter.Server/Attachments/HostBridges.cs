using Porter.Server.Cni.Config;
using Porter.Server.Cni.Runtime;
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

    /// <summary>The host bridge a list attaches to, or null when its main plugin is not "bridge".</summary>
    public static string? BridgeOf(NetworkConfigList list) =>
        list.MainPlugin.Type != "bridge" ? null
        : list.MainPlugin.Json.TryGetProperty("bridge", out var name) && name.ValueKind == System.Text.Json.JsonValueKind.String ? name.GetString()
        : "cni0";

    /// <summary>bridge with ipMasq removes its masquerade rules only from inside the namespace: keep one to DEL in.</summary>
    public static bool MasqueradesFromInside(NetworkConfigList list) =>
        list.MainPlugin.Type == "bridge" && list.MainPlugin.Json.TryGetProperty("ipMasq", out var masq) && masq.ValueKind == System.Text.Json.JsonValueKind.True;

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
    public async Task<string?> RemoveIfUnusedAsync(string bridge, ResultCache cache)
    {
        var marker = Path.Combine(MarkerDir, bridge);
        if (!File.Exists(marker))
        {
            return null;
        }
        // Read under the bridge lock, which every setup and release of this bridge's attachments holds.
        var (entries, unreadable) = cache.List();
        if (unreadable.Count > 0)
        {
            return $"bridge {bridge} was left in place: an attachment record is unreadable, and it may use the bridge";
        }
        var stillUsed = entries.Any(e =>
        {
            try
            {
                return BridgeOf(NetworkConfigList.FromBytes(e.Config, "")) == bridge;
            }
            catch (Json.ConfigException)
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
            return $"bridge {bridge} removed with its last attachment";
        }
        return $"bridge {bridge} could not be removed";
    }
}
