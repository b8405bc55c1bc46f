using Porter.Testbed;

namespace Porter.IntegrationTests.Infrastructure;

/// <summary>
/// The published net-porter run as a command (attach, detach, netns, status), with a clean environment: as a test
/// user (setpriv, the host's namespaces) with XDG_RUNTIME_DIR set to their runtime directory, so the per-user socket
/// is found as it is for netavark's calls; or as root, naming the world's main socket.
/// </summary>
public static class PorterCli
{
    private const string PathVariable = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static ShellResult AsUser(Workspace workspace, TestUser user, params string[] args) =>
        Shell.Run("setpriv", [$"--reuid={user.Uid}", $"--regid={user.Gid}", "--init-groups", "--",
            "env", "-i", PathVariable, $"XDG_RUNTIME_DIR={Path.GetDirectoryName(workspace.UserSocketOf(user))}", workspace.PluginPath, .. args],
            null, TimeSpan.FromSeconds(120));

    /// <summary>As root, naming the world's main socket with --socket.</summary>
    public static ShellResult AsRoot(Workspace workspace, params string[] args) =>
        Shell.Run("env", ["-i", PathVariable, workspace.PluginPath, .. args, "--socket", workspace.SocketPath], null, TimeSpan.FromSeconds(120));

    /// <summary>
    /// As root, without --socket: the socket is found as for netavark's calls, through XDG_RUNTIME_DIR (the
    /// workspace's run directory, which holds the main socket). This is how a unit's ExecStart line runs.
    /// </summary>
    public static ShellResult AsRootFindingSocket(Workspace workspace, params string[] args) =>
        Shell.Run("env", ["-i", PathVariable, $"XDG_RUNTIME_DIR={workspace.RunDir}", workspace.PluginPath, .. args], null, TimeSpan.FromSeconds(120));
}
