using System.Text;
using Porter.Protocol.V1;

namespace Porter.Plugin.Netns;

/// <summary>
/// /etc/netns/NAME/resolv.conf from the DNS settings the attachments reported: `ip netns exec NAME` binds it over
/// /etc/resolv.conf, and a unit gets it with BindReadOnlyPaths=/etc/netns/NAME/resolv.conf:/etc/resolv.conf. Only a
/// file net-porter wrote (it starts with <see cref="Header"/>) is ever replaced or removed.
/// </summary>
public static class ResolvConf
{
    public const string Directory = "/etc/netns";
    private const string Header = "# Written by net-porter netns up";

    public static string PathOf(string name) => Path.Combine(Directory, name, "resolv.conf");

    /// <summary>Writes the file; returns false (and leaves no file of ours) when no attachment reported a DNS server.</summary>
    public static bool Write(string name, IEnumerable<StatusBlock> statuses)
    {
        var servers = new List<string>();
        var search = new List<string>();
        foreach (var status in statuses)
        {
            servers.AddRange(status.DnsServerIps.Where(s => !servers.Contains(s)));
            search.AddRange(status.DnsSearchDomains.Where(d => !search.Contains(d)));
        }
        var path = PathOf(name);
        if (servers.Count == 0)
        {
            Remove(name);
            return false;
        }
        if (File.Exists(path) && !IsOurs(path))
        {
            throw new PluginException($"{path} exists and was not written by net-porter; remove it, or give the resources no DNS servers");
        }
        var text = new StringBuilder();
        text.Append(Header).Append(' ').Append(name).Append(" from the DNS settings of its attachments; net-porter netns down ").Append(name).Append(" removes it.\n");
        foreach (var server in servers)
        {
            text.Append("nameserver ").Append(server).Append('\n');
        }
        if (search.Count > 0)
        {
            text.Append("search ").Append(string.Join(' ', search)).Append('\n');
        }
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.net-porter.tmp";
        File.WriteAllText(temp, text.ToString());
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.Move(temp, path, overwrite: true);
        return true;
    }

    /// <summary>Removes the file if net-porter wrote it, and /etc/netns/NAME if that leaves it empty.</summary>
    public static void Remove(string name)
    {
        var path = PathOf(name);
        if (File.Exists(path) && IsOurs(path))
        {
            File.Delete(path);
        }
        var dir = Path.GetDirectoryName(path)!;
        if (System.IO.Directory.Exists(dir) && !System.IO.Directory.EnumerateFileSystemEntries(dir).Any())
        {
            System.IO.Directory.Delete(dir);
        }
    }

    private static bool IsOurs(string path)
    {
        using var reader = new StreamReader(path);
        return reader.ReadLine()?.StartsWith(Header, StringComparison.Ordinal) == true;
    }
}
