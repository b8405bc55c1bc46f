using System.Security.Cryptography;
using System.Text;
using Porter.Server.Native;

namespace Porter.Server.Namespaces;

/// <summary>
/// Keeps a verified network namespace reachable at a path of the server's own (STATE/netns/KEY, a bind mount), for
/// as long as work on it may have to be finished or undone by another server process: across a crash mid-setup, and
/// for DHCP, whose daemon needs a path it can open again when it re-acquires a lease. The bind mount also keeps the
/// namespace alive, so holds are released as soon as they are not needed.
///
/// Under systemd the server has a mount namespace of its own, and the bind mounts die with the process: every hold is
/// therefore also kept in an <see cref="IHoldStore"/> (the service's file descriptor store) under a name of its own,
/// and mounted again from there when the next server process starts (<see cref="Restore"/>).
/// </summary>
public sealed class NetnsHolds(string stateDir, IHoldStore store)
{
    /// <summary>What every hold's name in the store starts with.</summary>
    public const string StoreNamePrefix = "hold-";

    public NetnsHolds(string stateDir)
        : this(stateDir, NoHoldStore.Instance)
    {
    }

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
        KeepOutside(key, path);
        return path;
    }

    /// <summary>
    /// Stores a descriptor of the hold under its name. A fresh open of the hold (not a dup of the caller's descriptor):
    /// systemd drops a stored descriptor that shares its open file with one it has, and two attachments in one
    /// namespace need two entries.
    /// </summary>
    private void KeepOutside(string key, string path)
    {
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return;
        }
        try
        {
            store.Keep(StoreName(key), fd);
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>
    /// The hold's name in the store: "hold-" and the attachment's record name, where every byte that FDNAME= does not
    /// allow (it takes printable ASCII without ':') is %XX; names that would be longer than FDNAME='s 255 characters
    /// become "hold-" and a SHA-256 of the record name. Never read back: holds are matched by computing the name of
    /// every record.
    /// </summary>
    public static string StoreName(string key)
    {
        var name = new StringBuilder(StoreNamePrefix, StoreNamePrefix.Length + key.Length);
        foreach (var b in Encoding.UTF8.GetBytes(key))
        {
            if (b is > 0x20 and < 0x7f && b != ':' && b != '%')
            {
                name.Append((char)b);
            }
            else
            {
                name.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return name.Length <= 255
            ? name.ToString()
            : StoreNamePrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>
    /// At start: mounts again, at STATE/netns/KEY, every hold the store handed back whose attachment still exists and
    /// names the same namespace (<paramref name="attachments"/>: record name and the namespace inode it recorded), and
    /// drops from the store every other one (its attachment was released while no server ran to say so). Takes
    /// ownership of the descriptors, which are closed afterwards: the store keeps its own.
    /// </summary>
    public RestoreReport Restore(IReadOnlyList<(int Fd, string Name)> handedBack, IReadOnlyDictionary<string, ulong?> attachments)
    {
        var byName = new Dictionary<string, (string Key, ulong? Inode)>(StringComparer.Ordinal);
        foreach (var (key, inode) in attachments)
        {
            byName[StoreName(key)] = (key, inode);
        }
        var restored = new List<string>();
        var dropped = new List<string>();
        var failed = new List<string>();
        foreach (var (fd, name) in handedBack)
        {
            try
            {
                var inode = Libc.StatxCall(fd, "", Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, out var st) == 0 ? st.Ino : 0;
                var isNetns = Libc.FstatfsType(fd, out var type) == 0 && type == Libc.NSFS_MAGIC;
                if (!isNetns || !byName.TryGetValue(name, out var attachment) || (attachment.Inode is { } recorded && recorded != inode))
                {
                    store.Forget(name);
                    dropped.Add(name);
                    continue;
                }
                var path = PathFor(attachment.Key);
                if (IsHeld(path) && Libc.StatxCall(Libc.AT_FDCWD, path, 0, Libc.STATX_BASIC_STATS, out var held) == 0 && held.Ino == inode)
                {
                    continue; // still mounted: the mount namespace outlived the process (no private one)
                }
                System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                Libc.Umount2(path, Libc.MNT_DETACH);
                using (File.Create(path))
                {
                }
                if (Libc.Mount($"/proc/self/fd/{fd}", path, null, Libc.MS_BIND, IntPtr.Zero) != 0)
                {
                    failed.Add($"{attachment.Key}: {Libc.ErrorText(Libc.LastErrno)}");
                    continue;
                }
                restored.Add(attachment.Key);
            }
            finally
            {
                Libc.Close(fd);
            }
        }
        return new RestoreReport(restored, dropped, failed);
    }

    /// <summary>Unmounts and removes a hold and drops it from the store; nothing happens if there is none.</summary>
    public void Release(string path)
    {
        if (path.Length == 0)
        {
            return;
        }
        if (Path.GetDirectoryName(path) == Directory)
        {
            store.Forget(StoreName(Path.GetFileName(path)));
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

/// <summary>What <see cref="NetnsHolds.Restore"/> did: holds mounted again, stored holds dropped (no attachment), holds that could not be mounted.</summary>
public sealed record RestoreReport(IReadOnlyList<string> Restored, IReadOnlyList<string> Dropped, IReadOnlyList<string> Failed);
