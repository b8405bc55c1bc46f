using Porter.Server.Native;

namespace Porter.Server.Namespaces;

/// <summary>
/// Keeps a verified network namespace reachable at a path of the server's own (STATE/netns/KEY, a bind mount), for
/// as long as work on it may have to be finished or undone by another server process: across a crash mid-setup, and
/// for DHCP, whose daemon needs a path it can open again when it re-acquires a lease. The bind mount also keeps the
/// namespace alive, so holds are released as soon as they are not needed.
/// </summary>
public sealed class NetnsHolds(string stateDir)
{
    public string Directory { get; } = Path.Combine(stateDir, "netns");

    public string PathFor(string key) => Path.Combine(Directory, key);

    /// <summary>Binds the open namespace at STATE/netns/KEY and returns that path.</summary>
    public string Hold(OpenedNetns netns, string key)
    {
        System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = PathFor(key);
        Release(path); // a leftover from a crash
        using (File.Create(path))
        {
        }
        if (Libc.Mount($"/proc/self/fd/{netns.Handle.DangerousGetHandle()}", path, null, Libc.MS_BIND, IntPtr.Zero) != 0)
        {
            var errno = Libc.LastErrno;
            File.Delete(path);
            throw new IOException($"cannot hold network namespace {netns.CallerPath} at {path}: {Libc.ErrorText(errno)}");
        }
        return path;
    }

    /// <summary>Unmounts and removes a hold; nothing happens if there is none.</summary>
    public static void Release(string path)
    {
        if (path.Length == 0)
        {
            return;
        }
        // EINVAL: not a mount point (already released, or never bound).
        Libc.Umount2(path, Libc.MNT_DETACH);
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>True when the path is a held namespace (an nsfs bind mount), not just a leftover file.</summary>
    public static bool IsHeld(string path) =>
        path.Length > 0 && File.Exists(path) && OpenCheck(path);

    private static bool OpenCheck(string path)
    {
        var fd = Libc.Open(path, Libc.O_PATH | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return false;
        }
        try
        {
            return Libc.FstatfsType(fd, out var type) == 0 && type == Libc.NSFS_MAGIC;
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
