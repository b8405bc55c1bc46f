using System.Runtime.InteropServices;

namespace Porter.Server.Native;

/// <summary>
/// The few libc calls .NET does not wrap. Only syscalls whose numbers are the same on every 64-bit Linux
/// architecture are called through syscall(2); the rest go through their glibc wrappers.
/// </summary>
internal static unsafe partial class Libc
{
    public const int O_RDONLY = 0x0;
    public const int O_NONBLOCK = 0x800;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_CLOEXEC = 0x80000;
    public const int O_PATH = 0x200000;

    public const int AT_FDCWD = -100;
    public const int AT_EMPTY_PATH = 0x1000;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;

    public const ulong RESOLVE_NO_XDEV = 0x01;
    public const ulong RESOLVE_NO_MAGICLINKS = 0x02;
    public const ulong RESOLVE_NO_SYMLINKS = 0x04;
    public const ulong RESOLVE_BENEATH = 0x08;
    public const ulong RESOLVE_IN_ROOT = 0x10;

    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EACCES = 13;
    public const int ENOTDIR = 20;
    public const int ELOOP = 40;
    public const int ENAMETOOLONG = 36;
    public const int ERANGE = 34;
    public const int EXDEV = 18;
    public const int ENOPROTOOPT = 92;
    public const int EINVAL = 22;
    public const int ENOSYS = 38;
    public const int EAGAIN = 11;

    // linux/nsfs.h: _IO(0xb7, n)
    public const nuint NS_GET_USERNS = 0xb701;
    public const nuint NS_GET_NSTYPE = 0xb703;
    public const nuint NS_GET_OWNER_UID = 0xb704;
    public const int CLONE_NEWNET = 0x40000000;
    public const long NSFS_MAGIC = 0x6e736673;

    public const uint S_IFMT = 0xF000;
    public const uint S_IFSOCK = 0xC000;
    public const uint S_IFLNK = 0xA000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFBLK = 0x6000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFCHR = 0x2000;
    public const uint S_IFIFO = 0x1000;

    public const uint STATX_BASIC_STATS = 0x7ff;

    private const long SYS_pidfd_open = 434;
    private const long SYS_openat2 = 437;

    [StructLayout(LayoutKind.Sequential)]
    public struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct StatxTimestamp
    {
        public long Sec;
        public uint Nsec;
        public int Reserved;
    }

    /// <summary>struct statx: the same layout on every architecture, unlike struct stat.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Statx
    {
        public uint Mask;
        public uint Blksize;
        public ulong Attributes;
        public uint Nlink;
        public uint Uid;
        public uint Gid;
        public ushort Mode;
        public ushort Spare0;
        public ulong Ino;
        public ulong Size;
        public ulong Blocks;
        public ulong AttributesMask;
        public StatxTimestamp Atime;
        public StatxTimestamp Btime;
        public StatxTimestamp Ctime;
        public StatxTimestamp Mtime;
        public uint RdevMajor;
        public uint RdevMinor;
        public uint DevMajor;
        public uint DevMinor;
        public fixed ulong Spare2[14];
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long SyscallOpenat2(long number, int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref OpenHow how, nuint size);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long SyscallPidfdOpen(long number, int pid, uint flags);

    public static int Openat2(int dirfd, string path, ref OpenHow how) =>
        (int)SyscallOpenat2(SYS_openat2, dirfd, path, ref how, (nuint)sizeof(OpenHow));

    public static int PidfdOpen(int pid) => (int)SyscallPidfdOpen(SYS_pidfd_open, pid, 0);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    private const short POLLIN = 0x1;

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int PollCall(PollFd* fds, nuint count, int timeout);

    /// <summary>
    /// Whether the process behind a pidfd has exited: its pidfd becomes readable then (pidfd_open(2)). Asked with
    /// poll rather than pidfd_send_signal(fd, 0), which needs CAP_KILL for other users' processes and so would take
    /// a capability the hardened unit does not give.
    /// </summary>
    public static bool PidfdExited(int pidfd)
    {
        var poll = new PollFd { Fd = pidfd, Events = POLLIN };
        int rc;
        do
        {
            rc = PollCall(&poll, 1, 0);
        }
        while (rc < 0 && LastErrno == EINTR);
        return rc > 0 && (poll.Revents & POLLIN) != 0;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    public static partial int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true)]
    public static partial int Openat(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    public static partial int StatxCall(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, out Statx buffer);

    [LibraryImport("libc", EntryPoint = "fstatfs", SetLastError = true)]
    private static partial int FstatfsCall(int fd, byte* buffer);

    /// <summary>f_type of the filesystem an fd lives on (the first word of struct statfs on 64-bit Linux).</summary>
    public static int FstatfsType(int fd, out long fsType)
    {
        var buffer = stackalloc byte[256];
        var rc = FstatfsCall(fd, buffer);
        fsType = rc == 0 ? *(long*)buffer : 0;
        return rc;
    }

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, out uint value);

    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    public static partial int Fchown(int fd, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true)]
    public static partial int Lchown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "fchownat", SetLastError = true)]
    public static partial int Fchownat(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group, int flags);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true)]
    public static partial int Unlinkat(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    public const ulong MS_BIND = 0x1000;
    public const int MNT_DETACH = 0x2;

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true)]
    public static partial int Mount([MarshalAs(UnmanagedType.LPUTF8Str)] string source, [MarshalAs(UnmanagedType.LPUTF8Str)] string target,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string? fstype, ulong flags, IntPtr data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true)]
    public static partial int Umount2([MarshalAs(UnmanagedType.LPUTF8Str)] string target, int flags);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int Setns(int fd, int nstype);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "chmod", SetLastError = true)]
    public static partial int Chmod([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
    public static partial int Dup(int fd);

    // Mono.Posix's getgrouplist enumerates every group (getgrent) instead: wrong where NSS does not enumerate (sssd, LDAP).
    [LibraryImport("libc", EntryPoint = "getgrouplist", SetLastError = true)]
    public static partial int Getgrouplist([MarshalAs(UnmanagedType.LPUTF8Str)] string user, uint group, uint* groups, ref int ngroups);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int Getsockopt(int fd, int level, int option, byte* value, ref uint length);

    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int FD_CLOEXEC = 1;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr (LP64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    public const int SOL_SOCKET = 1;
    public const int SCM_RIGHTS = 1;
    public const int MSG_NOSIGNAL = 0x4000;

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint Sendmsg(int fd, MsgHdr* message, int flags);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Sec;
        public long Nsec;
    }

    private const int CLOCK_MONOTONIC = 1;

    [LibraryImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    private static partial int ClockGettime(int clock, Timespec* time);

    /// <summary>CLOCK_MONOTONIC in microseconds, as sd_notify's MONOTONIC_USEC= wants it.</summary>
    public static ulong MonotonicMicroseconds()
    {
        Timespec time;
        ClockGettime(CLOCK_MONOTONIC, &time);
        return (ulong)time.Sec * 1_000_000UL + (ulong)time.Nsec / 1000UL;
    }

    public static int LastErrno => Marshal.GetLastPInvokeError();

    public static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    public static string FileTypeName(uint mode) => (mode & S_IFMT) switch
    {
        S_IFSOCK => "a socket",
        S_IFLNK => "a symbolic link",
        S_IFREG => "a regular file",
        S_IFBLK => "a block device",
        S_IFDIR => "a directory",
        S_IFCHR => "a character device",
        S_IFIFO => "a FIFO",
        _ => "an unknown kind of file",
    };
}
