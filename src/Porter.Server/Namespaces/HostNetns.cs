using System.Globalization;
using Porter.Server.Native;

namespace Porter.Server.Namespaces;

/// <summary>
/// The host's own network namespaces: the server's, and init's where it can be read (they differ only when the
/// server was started in another one, as the tests do). Attaching one of them would create, rename or move
/// interfaces of the host itself, so nobody may, root included.
/// </summary>
public static class HostNetns
{
    public static bool Is(OpenedNetns netns) => Inodes().Contains(netns.Inode);

    private static HashSet<ulong> Inodes()
    {
        var inodes = new HashSet<ulong>();
        foreach (var path in new[] { "/proc/self/ns/net", "/proc/1/ns/net" })
        {
            if (Libc.StatxCall(Libc.AT_FDCWD, path, 0, Libc.STATX_BASIC_STATS, out var st) == 0)
            {
                inodes.Add(st.Ino);
            }
        }
        return inodes;
    }

    public static string Describe(OpenedNetns netns) =>
        $"{netns.CallerPath} is the host's own network namespace (inode {netns.Inode.ToString(CultureInfo.InvariantCulture)}, the server's); "
        + "attaching it would create, rename or move the host's own interfaces, so it is refused for everyone";
}
