using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Porter.Server.Identity;
using Porter.Server.Native;

namespace Porter.Server.Namespaces;

/// <summary>
/// Opens the network namespace a caller names, safely:
/// the path is resolved inside the caller's own root (its mount namespace, through /proc/PID/root pinned by the
/// peer's pidfd) with symlinks confined to that root and /proc magic links refused; the result must be an nsfs
/// network namespace; and the kernel must report the caller's uid as the owner of its user namespace.
/// </summary>
public sealed class NetnsOpener
{
    public const int MaxPathBytes = 4095;

    /// <summary>Opens and verifies. Root callers may open any network namespace; everyone else only their own.</summary>
    public OpenedNetns Open(PeerProcess peer, string callerPath)
    {
        var path = ValidatePath(callerPath);
        using var root = OpenCallerRoot(peer);
        using var located = Resolve(root, path, callerPath);
        var (inode, mode) = Stat(located, callerPath);
        if (Libc.FstatfsType(Fd(located), out var fsType) != 0 || fsType != Libc.NSFS_MAGIC)
        {
            throw new NetnsException(NetnsProblem.NotANetworkNamespace,
                $"netns path {callerPath} is {Libc.FileTypeName(mode)}, not a network namespace");
        }

        // Reopen the O_PATH descriptor for reading: namespace ioctls need a real open file.
        var fd = Libc.Open($"/proc/self/fd/{Fd(located)}", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new NetnsException(NetnsProblem.NotANetworkNamespace, $"cannot open netns {callerPath}: {Libc.ErrorText(Libc.LastErrno)}");
        }
        return Verify(new SafeFileHandle(fd, ownsHandle: true), inode, peer, callerPath, $"netns {callerPath}");
    }

    /// <summary>
    /// Opens the network namespace of process <paramref name="pid"/> and verifies it as <see cref="Open"/> does. The
    /// process is pinned with a pidfd first and asked after the open whether it still runs: if it does, /proc/PID was
    /// that process all along (a PID is not reused while its process exists), so a PID recycled meanwhile can never
    /// redirect the attach. The number means a process in the server's PID namespace, which must be the caller's.
    /// </summary>
    public (OpenedNetns Netns, string ProcessName) OpenOfProcess(PeerProcess peer, int pid)
    {
        var what = $"process {pid.ToString(CultureInfo.InvariantCulture)}";
        if (pid <= 0)
        {
            throw new NetnsException(NetnsProblem.InvalidPath, $"{pid.ToString(CultureInfo.InvariantCulture)} is not a process id");
        }
        RequireSamePidNamespace(peer);
        var pidfd = Libc.PidfdOpen(pid);
        if (pidfd < 0)
        {
            var errno = Libc.LastErrno;
            throw errno == Libc.ESRCH
                ? new NetnsException(NetnsProblem.NotFound, $"{what} does not exist")
                : new NetnsException(NetnsProblem.InvalidPath, $"cannot pin {what}: {Libc.ErrorText(errno)}");
        }
        using var pinned = new SafeFileHandle(pidfd, ownsHandle: true);
        var fd = Libc.Open($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        var openErrno = fd < 0 ? Libc.LastErrno : 0;
        var name = ReadComm(pid);
        // Asked after the open: only if the pinned process still exists was /proc/PID still it when we opened.
        var alive = !Libc.PidfdExited(pidfd);
        if (fd < 0 || !alive)
        {
            if (fd >= 0)
            {
                Libc.Close(fd);
            }
            throw !alive || openErrno is Libc.ENOENT or Libc.ESRCH
                ? new NetnsException(NetnsProblem.NotFound, $"{what} exited before its network namespace could be opened")
                : new NetnsException(NetnsProblem.InvalidPath, $"cannot open the network namespace of {what}: {Libc.ErrorText(openErrno)}");
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        ulong inode;
        try
        {
            (inode, _) = Stat(handle, what);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        return (Verify(handle, inode, peer, $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/ns/net", $"the network namespace of {what}"), name);
    }

    /// <summary>
    /// Checks an open namespace descriptor (taking ownership of it): nsfs, a network namespace, and owned by the
    /// caller unless the caller is root.
    /// </summary>
    private static OpenedNetns Verify(SafeFileHandle handle, ulong inode, PeerProcess peer, string callerPath, string what)
    {
        var fd = Fd(handle);
        try
        {
            if (Libc.FstatfsType(fd, out var fsType) != 0 || fsType != Libc.NSFS_MAGIC)
            {
                throw new NetnsException(NetnsProblem.NotANetworkNamespace, $"{what} is not a namespace");
            }
            var type = Libc.Ioctl(fd, Libc.NS_GET_NSTYPE);
            if (type != Libc.CLONE_NEWNET)
            {
                throw new NetnsException(NetnsProblem.NotANetworkNamespace,
                    $"netns path {callerPath} is a {NamespaceTypeName(type)} namespace, not a network namespace");
            }
            var owner = OwnerUid(fd, callerPath);
            if (peer.Credentials.Uid != 0 && owner != peer.Credentials.Uid)
            {
                throw new NetnsException(NetnsProblem.NotOwned,
                    $"{what} is not yours: its user namespace belongs to uid {owner}, you are uid {peer.Credentials.Uid}");
            }
            return new OpenedNetns(handle, inode, owner, callerPath);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>A PID means a process only in the PID namespace it was counted in; the server counts in its own.</summary>
    private static void RequireSamePidNamespace(PeerProcess peer)
    {
        var theirs = LinkTarget($"/proc/{peer.Pid.ToString(CultureInfo.InvariantCulture)}/ns/pid");
        if (!peer.IsAlive())
        {
            throw new NetnsException(NetnsProblem.CallerGone, "the calling process exited before its request could be handled");
        }
        if (theirs is null)
        {
            // Alive, yet its /proc entry cannot be read: the server lacks CAP_SYS_PTRACE (e.g. a unit that drops it).
            throw new NetnsException(NetnsProblem.CannotVerify,
                $"the server cannot read /proc/{peer.Pid.ToString(CultureInfo.InvariantCulture)}/ns/pid of the calling process, so it cannot check which PID namespace the caller is in (the server needs CAP_SYS_PTRACE)");
        }
        if (theirs != LinkTarget("/proc/self/ns/pid"))
        {
            throw new NetnsException(NetnsProblem.InvalidPath,
                "you are in another PID namespace than the server, so a PID you name would mean another process there; name the namespace by its path instead");
        }
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The process's command name, for status only ("" when it cannot be read).</summary>
    private static string ReadComm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/comm").TrimEnd('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Null when the path names nothing (the namespace is gone); throws for anything else that is wrong.</summary>
    public OpenedNetns? OpenIfExists(PeerProcess peer, string callerPath)
    {
        try
        {
            return Open(peer, callerPath);
        }
        catch (NetnsException e) when (e.Problem == NetnsProblem.NotFound)
        {
            return null;
        }
    }

    private static string ValidatePath(string path)
    {
        if (path.Length == 0)
        {
            throw new NetnsException(NetnsProblem.InvalidPath, "no netns path was given");
        }
        if (path.Contains('\0'))
        {
            throw new NetnsException(NetnsProblem.InvalidPath, "the netns path contains a NUL character");
        }
        if (path[0] != '/')
        {
            throw new NetnsException(NetnsProblem.InvalidPath, $"netns path {path} is not absolute");
        }
        if (Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
        {
            throw new NetnsException(NetnsProblem.InvalidPath, $"the netns path is longer than {MaxPathBytes} bytes");
        }
        return path;
    }

    private static SafeFileHandle OpenCallerRoot(PeerProcess peer)
    {
        var fd = Libc.Open($"/proc/{peer.Pid}/root", Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            var errno = Libc.LastErrno;
            if (errno is Libc.ENOENT or Libc.ESRCH)
            {
                throw new NetnsException(NetnsProblem.CallerGone, "the calling process exited before its netns could be opened");
            }
            throw new NetnsException(NetnsProblem.InvalidPath, $"cannot reach the caller's root directory: {Libc.ErrorText(errno)}");
        }
        var root = new SafeFileHandle(fd, ownsHandle: true);
        // Checked after opening: if the peer is still alive now, /proc/PID was still that peer when we opened it.
        if (!peer.IsAlive())
        {
            root.Dispose();
            throw new NetnsException(NetnsProblem.CallerGone, "the calling process exited before its netns could be opened");
        }
        return root;
    }

    private static SafeFileHandle Resolve(SafeFileHandle root, string path, string callerPath)
    {
        var how = new Libc.OpenHow
        {
            Flags = (ulong)(Libc.O_PATH | Libc.O_CLOEXEC),
            Resolve = Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS,
        };
        var fd = Libc.Openat2(Fd(root), path, ref how);
        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }
        var errno = Libc.LastErrno;
        throw errno switch
        {
            Libc.ENOENT => new NetnsException(NetnsProblem.NotFound, $"netns path {callerPath} does not exist"),
            Libc.ENOTDIR => new NetnsException(NetnsProblem.NotFound, $"netns path {callerPath} does not exist (a parent is not a directory)"),
            // /proc/PID/ns/* links fail with ELOOP (RESOLVE_NO_MAGICLINKS) or, where ptrace rules refuse first, EACCES.
            Libc.ELOOP or Libc.EACCES => new NetnsException(NetnsProblem.InvalidPath,
                $"netns path {callerPath} is refused: it leads through a /proc magic link, a symlink loop or something inaccessible; pass the bind-mounted netns path instead"),
            Libc.ENOSYS => new NetnsException(NetnsProblem.InvalidPath, "this kernel lacks openat2(2) (Linux 5.6+ is required)"),
            _ => new NetnsException(NetnsProblem.InvalidPath, $"cannot open netns path {callerPath}: {Libc.ErrorText(errno)}"),
        };
    }

    private static (ulong Inode, uint Mode) Stat(SafeFileHandle handle, string callerPath)
    {
        if (Libc.StatxCall(Fd(handle), "", Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, out var st) != 0)
        {
            throw new NetnsException(NetnsProblem.InvalidPath, $"cannot stat netns path {callerPath}: {Libc.ErrorText(Libc.LastErrno)}");
        }
        return (st.Ino, st.Mode);
    }

    private static uint OwnerUid(int nsFd, string callerPath)
    {
        var userns = Libc.Ioctl(nsFd, Libc.NS_GET_USERNS);
        if (userns < 0)
        {
            throw new NetnsException(NetnsProblem.NotOwned,
                $"cannot determine who owns netns {callerPath}: {Libc.ErrorText(Libc.LastErrno)}");
        }
        try
        {
            if (Libc.Ioctl(userns, Libc.NS_GET_OWNER_UID, out var uid) != 0)
            {
                throw new NetnsException(NetnsProblem.NotOwned,
                    $"cannot determine who owns netns {callerPath}: {Libc.ErrorText(Libc.LastErrno)}");
            }
            return uid;
        }
        finally
        {
            Libc.Close(userns);
        }
    }

    private static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    private static string NamespaceTypeName(int cloneFlag) => cloneFlag switch
    {
        0x00020000 => "mount",
        0x02000000 => "cgroup",
        0x04000000 => "uts",
        0x08000000 => "ipc",
        0x10000000 => "user",
        0x20000000 => "pid",
        0x00000080 => "time",
        _ => "non-network",
    };
}
