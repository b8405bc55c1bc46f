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

    /// <summary>
    /// The inodes of every network namespace that is bind-mounted somewhere (an nsfs mount, as `ip netns add` and
    /// `unshare --net=FILE` make), in any mount namespace some process is in, except mounts at or below
    /// <paramref name="excludedDirectory"/> (the server's own holds, which must not keep what they hold alive).
    /// Every mount namespace is read, not only the server's: under systemd the server has one of its own, and a
    /// user's namespace may be mounted only in that user's mount namespace.
    /// </summary>
    public static HashSet<ulong> InodesMounted(string excludedDirectory)
    {
        var inodes = new HashSet<ulong>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var excluded = excludedDirectory.TrimEnd('/') + "/";
        foreach (var dir in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                continue;
            }
            string[] lines;
            try
            {
                if (new FileInfo(Path.Combine(dir, "ns", "mnt")).LinkTarget is not { } mountNs || !seen.Add(mountNs))
                {
                    continue;
                }
                lines = File.ReadAllLines(Path.Combine(dir, "mountinfo"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // exited meanwhile
            }
            foreach (var line in lines)
            {
                if (ParseNsfsMount(line) is { } mount && !(mount.MountPoint + "/").StartsWith(excluded, StringComparison.Ordinal))
                {
                    inodes.Add(mount.Inode);
                }
            }
        }
        return inodes;
    }

    /// <summary>Whether the namespace is bind-mounted anywhere but under <paramref name="excludedDirectory"/>, right now.</summary>
    public static bool IsMounted(ulong inode, string excludedDirectory) => InodesMounted(excludedDirectory).Contains(inode);

    /// <summary>
    /// A mountinfo line of a network namespace's bind mount: "ID PARENT MAJ:MIN net:[INODE] MOUNTPOINT OPTS ... - nsfs
    /// nsfs OPTS" (proc(5)); null for any other line.
    /// </summary>
    public static (ulong Inode, string MountPoint)? ParseNsfsMount(string line)
    {
        var separator = line.IndexOf(" - ", StringComparison.Ordinal);
        if (separator < 0 || !line.AsSpan(separator + 3).StartsWith("nsfs ", StringComparison.Ordinal))
        {
            return null;
        }
        var fields = line[..separator].Split(' ');
        if (fields.Length < 5 || !fields[3].StartsWith("net:[", StringComparison.Ordinal) || !fields[3].EndsWith(']') ||
            !ulong.TryParse(fields[3].AsSpan(5, fields[3].Length - 6), NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
        {
            return null;
        }
        return (inode, Unescape(fields[4]));
    }

    /// <summary>mountinfo writes space, tab, newline and backslash in paths as octal escapes (\040).</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }
        var text = new System.Text.StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && field.AsSpan(i + 1, 3).IndexOfAnyExceptInRange('0', '7') < 0)
            {
                text.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }
        return text.ToString();
    }

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
