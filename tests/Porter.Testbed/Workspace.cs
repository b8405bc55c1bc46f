
namespace Porter.Testbed;

/// <summary>
/// A scratch directory tree for one test world: etc/ (config.json, cni.d/), state/ (root only), run/ (sockets),
/// bin/ (a world-readable copy of the plugin, as if installed in a netavark plugin directory) and one private
/// directory per caller. Deleted on dispose.
/// </summary>
public sealed class Workspace : IDisposable
{
    private const UnixFileMode Open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                      UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
                                      UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private Workspace(string root)
    {
        Root = root;
    }

    public string Root { get; }
    public string EtcDir => Path.Combine(Root, "etc");
    public string CniDir => Path.Combine(EtcDir, "cni.d");
    public string ConfigPath => Path.Combine(EtcDir, "config.json");
    public string StateDir => Path.Combine(Root, "state");
    public string RunDir => Path.Combine(Root, "run");
    public string SocketPath => Path.Combine(RunDir, "net-porter.sock");
    public string PluginPath => Path.Combine(Root, "bin", "net-porter");
    /// <summary>Stands in for the host's /run/user: the server's user_sockets.runtime_dir.</summary>
    public string UserRuntimeRoot => Path.Combine(Root, "run-user");
    /// <summary>Files root places here (e.g. bind-mounted namespaces) are visible to every caller started later.</summary>
    public string SharedDir => Path.Combine(Root, "shared");

    /// <summary>A new workspace with the published plugin, or <paramref name="pluginBinary"/> (the bench's baseline build).</summary>
    public static Workspace Create(string? pluginBinary = null)
    {
        var plugin = pluginBinary ?? Artifacts.PluginBinary; // fail before anything is created
        var root = Path.Combine(Path.GetTempPath(), $"npt-{Shell.RandomId(8)}");
        Directory.CreateDirectory(root, Open);
        File.SetUnixFileMode(root, Open);
        var workspace = new Workspace(root);
        foreach (var dir in new[] { workspace.EtcDir, workspace.CniDir, workspace.RunDir, Path.Combine(root, "bin"), Path.Combine(root, "home"), workspace.UserRuntimeRoot, workspace.SharedDir })
        {
            Directory.CreateDirectory(dir, Open);
        }
        File.Copy(plugin, workspace.PluginPath);
        File.SetUnixFileMode(workspace.PluginPath, Open);
        return workspace;
    }

    /// <summary>Copies another workspace's CNI networks and its config.json with every path moved to this workspace.</summary>
    public void CopyFrom(Workspace other)
    {
        foreach (var file in Directory.GetFiles(other.CniDir))
        {
            File.Copy(file, Path.Combine(CniDir, Path.GetFileName(file)));
        }
        if (File.Exists(other.ConfigPath))
        {
            WriteConfig(File.ReadAllText(other.ConfigPath).Replace(other.Root, Root, StringComparison.Ordinal));
        }
    }

    private static IEnumerable<string> MountsBelow(string root) =>
        File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(point => point.StartsWith(root + "/", StringComparison.Ordinal))
            .OrderByDescending(point => point.Length)
            .ToList();

    public void WriteConfig(string json) => File.WriteAllText(ConfigPath, json);

    public void WriteCni(string fileName, string json) => File.WriteAllText(Path.Combine(CniDir, fileName), json);

    /// <summary>A directory only this user may use, e.g. for its container netns bind mounts.</summary>
    public string HomeOf(TestUser user)
    {
        var dir = Path.Combine(Root, "home", user.Name);
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Shell.Check("chown", $"{user.Uid}:{user.Gid}", dir);
        return dir;
    }

    /// <summary>
    /// The user's runtime directory as logind would make it at login (theirs, 0700). Inside the caller's world it is
    /// bind-mounted at /run/user/UID.
    /// </summary>
    public string RuntimeDirOf(TestUser user)
    {
        var dir = Path.Combine(UserRuntimeRoot, user.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Shell.Check("chown", $"{user.Uid}:{user.Gid}", dir);
        return dir;
    }

    /// <summary>The per-user socket the server makes for a granted user (as the host sees it).</summary>
    public string UserSocketOf(TestUser user) =>
        Path.Combine(UserRuntimeRoot, user.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture), "net-porter.sock");

    public void Dispose()
    {
        // Mounts below the workspace (shared namespaces, namespaces the server still holds after a failed test)
        // must go before the files can.
        foreach (var mountPoint in MountsBelow(Root))
        {
            Shell.Try("umount", "-l", mountPoint);
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A mount left behind by a crashed caller keeps a file busy; the tmp cleaner gets it later.
        }
    }
}
