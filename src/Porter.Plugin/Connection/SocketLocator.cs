using System.Globalization;

namespace Porter.Plugin.Connection;

/// <summary>
/// Finds the server's socket. An explicit "socket" option is used as given. Otherwise, because rootless netavark
/// runs the plugin in a mount namespace where only /run/user/UID of the host's /run is visible, the per-user socket
/// is tried first: $XDG_RUNTIME_DIR/net-porter.sock, then /run/user/HOST_UID/net-porter.sock (the host uid read
/// from /proc/self/uid_map), then the main socket /run/net-porter.sock.
/// </summary>
public static class SocketLocator
{
    public const string SocketName = "net-porter.sock";
    public const string MainSocket = "/run/net-porter.sock";

    public static string Locate(string? explicitSocket, Func<string, bool>? exists = null, string? xdgRuntimeDir = null, uint? hostUid = null,
        string howToName = "-o socket=PATH")
    {
        if (explicitSocket is not null)
        {
            return explicitSocket;
        }
        exists ??= File.Exists;
        var candidates = Candidates(xdgRuntimeDir ?? Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR"), hostUid ?? HostUid());
        foreach (var candidate in candidates)
        {
            if (exists(candidate))
            {
                return candidate;
            }
        }
        throw new PluginException(
            $"no net-porter-server socket found (tried {string.Join(", ", candidates)}): is net-porter-server running, " +
            $"and is your user granted a resource? Or name the socket with {howToName}");
    }

    public static IReadOnlyList<string> Candidates(string? xdgRuntimeDir, uint? hostUid)
    {
        var list = new List<string>();
        if (!string.IsNullOrEmpty(xdgRuntimeDir) && xdgRuntimeDir[0] == '/')
        {
            list.Add(Path.Combine(xdgRuntimeDir, SocketName));
        }
        if (hostUid is { } uid)
        {
            var perUser = $"/run/user/{uid.ToString(CultureInfo.InvariantCulture)}/{SocketName}";
            if (!list.Contains(perUser))
            {
                list.Add(perUser);
            }
        }
        list.Add(MainSocket);
        return list;
    }

    /// <summary>
    /// The uid this process has on the host: inside rootless podman's user namespace getuid() is 0, and the
    /// mapping "0 1000 1" in /proc/self/uid_map says who that really is.
    /// </summary>
    public static uint? HostUid(string? uidMap = null, uint? insideUid = null)
    {
        try
        {
            uidMap ??= File.ReadAllText("/proc/self/uid_map");
        }
        catch (IOException)
        {
            return null;
        }
        var inside = insideUid ?? GetUid();
        foreach (var line in uidMap.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 3 &&
                uint.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var start) &&
                uint.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var outside) &&
                uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var count) &&
                inside >= start && inside - start < count)
            {
                return outside + (inside - start);
            }
        }
        return null;
    }

    private static uint GetUid() => Libc.GetUid();
}

internal static partial class Libc
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "getuid")]
    public static partial uint GetUid();
}
