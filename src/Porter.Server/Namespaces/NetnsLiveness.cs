using System.Globalization;

namespace Porter.Server.Namespaces;

/// <summary>
/// Is a container's network namespace still in use? A running container always has a process in its namespace, so
/// "no process has namespace inode N" (outside the server's own helpers) means the container is gone — killed,
/// crashed, or the host rebooted (told apart by the boot id recorded with the attachment).
/// </summary>
public static class NetnsLiveness
{
    public static string BootId { get; } = ReadBootId();

    /// <summary>The inodes of every network namespace some process (other than the excluded ones) is in.</summary>
    public static HashSet<ulong> InodesInUse(IReadOnlySet<int> excludedPids) => ProcessNamespaces(excludedPids).ToHashSet();

    /// <summary>
    /// Whether some process (other than the excluded ones) is in the namespace with this inode right now. Asked again
    /// just before anything is released, so that the decision rests on what is true at that moment, not at the start
    /// of a pass.
    /// </summary>
    public static bool IsInUse(ulong inode, IReadOnlySet<int> excludedPids) =>
        ProcessNamespaces(excludedPids).Any(i => i == inode);

    private static IEnumerable<ulong> ProcessNamespaces(IReadOnlySet<int> excludedPids)
    {
        foreach (var dir in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || excludedPids.Contains(pid))
            {
                continue;
            }
            string? target;
            try
            {
                target = new FileInfo(Path.Combine(dir, "ns", "net")).LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // exited meanwhile
            }
            // "net:[4026532179]"
            if (target is not null && target.StartsWith("net:[", StringComparison.Ordinal) &&
                ulong.TryParse(target.AsSpan(5, target.Length - 6), NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
            {
                yield return inode;
            }
        }
    }

    private static string ReadBootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }
}
