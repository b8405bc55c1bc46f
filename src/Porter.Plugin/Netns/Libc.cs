using System.Runtime.InteropServices;

namespace Porter.Plugin.Netns;

/// <summary>The two libc calls named namespaces need that .NET does not offer: a blocking flock, and the effective uid.</summary>
internal static partial class Libc
{
    public const int LOCK_EX = 2;
    public const int O_RDWR = 0x2;
    public const int O_CREAT = 0x40;
    public const int O_CLOEXEC = 0x80000;
    public const int EINTR = 4;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    public static partial int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "posix_spawnp", SetLastError = true)]
    public static unsafe partial int PosixSpawnp(out int pid, [MarshalAs(UnmanagedType.LPUTF8Str)] string file, IntPtr fileActions, IntPtr attributes,
        IntPtr* argv, IntPtr* envp);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    public static partial int Waitpid(int pid, out int status, int options);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();
}
