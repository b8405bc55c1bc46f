using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Porter.Testbed;

/// <summary>
/// A genuinely unprivileged caller built the way rootless podman builds its world: the test user's uid, in its own
/// user namespace (uid 0 inside, mapped to the user outside), its own network namespace (the "rootless netns") and
/// its own mount namespace, in which /run is replaced by a private tmpfs and only /run/user/UID (the user's runtime
/// directory) is bind-mounted back, with XDG_RUNTIME_DIR pointing there. Container network namespaces are bind-mounted
/// at /run/user/UID/netns/netns-UUID, as podman does. Commands run in one long-lived shell, so every namespace and
/// mount persists between them.
/// </summary>
public sealed class RootlessCaller : IDisposable
{
    private const string Marker = "__npt_done__";
    private readonly Process _shell;
    private readonly BlockingCollection<string> _lines = new();
    private readonly object _gate = new();
    private readonly Dictionary<string, string> _containers = new(StringComparer.Ordinal);
    private readonly string _id = Shell.RandomId(8);

    private RootlessCaller(Process shell, TestUser user, string workDir, Workspace workspace, string runtimeDir)
    {
        RuntimeDir = runtimeDir;
        _shell = shell;
        User = user;
        WorkDir = workDir;
        Workspace = workspace;
    }

    public TestUser User { get; }
    /// <summary>The user's private directory; the same path inside and outside its mount namespace.</summary>
    public string WorkDir { get; }
    public Workspace Workspace { get; }
    /// <summary>/run/user/UID as the caller sees it.</summary>
    public string RuntimeDir { get; }
    /// <summary>pid of the caller's shell, as the host sees it.</summary>
    public int Pid => _shell.Id;

    public static RootlessCaller Start(TestUser user, Workspace workspace)
    {
        var workDir = workspace.HomeOf(user);
        var hostRuntimeDir = workspace.RuntimeDirOf(user);
        var runtimeDir = $"/run/user/{user.Uid}";
        var startInfo = new ProcessStartInfo("setpriv")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir,
        };
        string[] argv =
        [
            $"--reuid={user.Uid}", $"--regid={user.Gid}", "--init-groups", "--",
            "unshare", "--user", "--map-root-user", "--net", "--mount", "--propagation", "private", "--",
            "/bin/bash", "--noprofile", "--norc",
        ];
        foreach (var arg in argv)
        {
            startInfo.ArgumentList.Add(arg);
        }
        startInfo.Environment.Clear();
        startInfo.Environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        startInfo.Environment["HOME"] = workDir;
        startInfo.Environment["LANG"] = "C.UTF-8";

        var shell = Process.Start(startInfo) ?? throw new TestbedException("cannot start the caller's shell");
        var caller = new RootlessCaller(shell, user, workDir, workspace, runtimeDir);
        shell.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                caller._lines.CompleteAdding();
            }
            else
            {
                caller._lines.Add(e.Data);
            }
        };
        shell.ErrorDataReceived += (_, _) => { };
        shell.BeginOutputReadLine();
        shell.BeginErrorReadLine();

        var world = caller.Run(
            $"mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -p {runtimeDir} && mount --bind {hostRuntimeDir} {runtimeDir} " +
            $"&& mkdir -p {runtimeDir}/netns && export XDG_RUNTIME_DIR={runtimeDir}");
        if (world.ExitCode != 0)
        {
            caller.Dispose();
            throw new TestbedException($"cannot build the caller's podman-like mount namespace: {world}");
        }
        var map = caller.Run("cat /proc/self/uid_map");
        var fields = map.Stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (map.ExitCode != 0 || fields.Length != 3 || fields[0] != "0" || fields[1] != user.Uid.ToString(CultureInfo.InvariantCulture))
        {
            caller.Dispose();
            throw new TestbedException($"the caller's user namespace is not mapped as expected: {map}");
        }
        return caller;
    }

    /// <summary>Runs a shell command in the caller's namespaces, as the caller. stdin, when given, is fed from a file.</summary>
    public ShellResult Run(string command, string? stdin = null, TimeSpan? timeout = null)
    {
        lock (_gate)
        {
            // Per caller: several callers of one user may run at once and share the user's directory.
            var input = Path.Combine(WorkDir, $".npt-{_id}-in");
            var output = Path.Combine(WorkDir, $".npt-{_id}-out");
            var error = Path.Combine(WorkDir, $".npt-{_id}-err");
            if (stdin is not null)
            {
                File.WriteAllText(input, stdin);
                File.SetUnixFileMode(input, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }
            var source = stdin is null ? "/dev/null" : input;
            _shell.StandardInput.Write($"{{ {command}\n}} <{source} >{output} 2>{error}; echo {Marker} $?\n");
            _shell.StandardInput.Flush();

            var limit = timeout ?? TimeSpan.FromSeconds(120);
            while (true)
            {
                if (!_lines.TryTake(out var line, limit))
                {
                    throw new TestbedException($"caller command did not finish within {limit.TotalSeconds} s: {command}");
                }
                if (line.StartsWith(Marker, StringComparison.Ordinal))
                {
                    var exit = int.Parse(line[(Marker.Length + 1)..], CultureInfo.InvariantCulture);
                    return new ShellResult(exit, File.ReadAllText(output), File.ReadAllText(error));
                }
            }
        }
    }

    /// <summary>
    /// Creates a container network namespace the way podman does: a new netns inside the caller's user namespace,
    /// bind-mounted on /run/user/UID/netns/netns-UUID (a path that only exists in the caller's mount namespace). Unless
    /// <paramref name="running"/> is false, a process lives in it, as a running container's does.
    /// </summary>
    public string CreateContainerNetns(bool running = true)
    {
        var path = $"{RuntimeDir}/netns/netns-{Guid.NewGuid()}";
        var result = Run($"touch {path} && unshare --net={path} ip link set lo up");
        if (result.ExitCode != 0)
        {
            throw new TestbedException($"cannot create a container netns: {result}");
        }
        if (running)
        {
            var started = Run($"nsenter --net={path} -- sleep infinity > /dev/null 2>&1 & echo $!");
            _containers[path] = started.Stdout.Trim();
        }
        return path;
    }

    /// <summary>The container's process dies (killed, crashed); its namespace stays as long as its bind mount does.</summary>
    public void KillContainer(string netns)
    {
        if (_containers.Remove(netns, out var pid))
        {
            Run($"kill -9 {pid}; while kill -0 {pid} 2>/dev/null; do sleep 0.05; done");
        }
    }

    /// <summary>Kills the container's process and removes its namespace, as podman does after a container exits.</summary>
    public void RemoveContainerNetns(string netns)
    {
        KillContainer(netns);
        var removed = Run($"umount {netns} && rm {netns}");
        if (removed.ExitCode != 0)
        {
            throw new TestbedException($"cannot remove container netns {netns}: {removed}");
        }
    }

    public ShellResult InNetns(string netns, string command) => Run($"nsenter --net={netns} -- {command}");

    /// <summary>Runs the plugin exactly as netavark does: argv verb [netns], JSON on stdin, JSON on stdout.</summary>
    public ShellResult Plugin(string verb, string? netns, string json, TimeSpan? timeout = null) =>
        Run(netns is null ? $"{Workspace.PluginPath} {verb}" : $"{Workspace.PluginPath} {verb} {netns}", json, timeout);

    public void Dispose()
    {
        try
        {
            // The containers' processes die with their caller, as a rootless podman's containers would with its user.
            if (_containers.Count > 0 && !_shell.HasExited)
            {
                Run($"kill -9 {string.Join(' ', _containers.Values)} 2>/dev/null; true", timeout: TimeSpan.FromSeconds(10));
                _containers.Clear();
            }
        }
        catch (TestbedException)
        {
            // the shell is gone or hangs: it is killed below
        }
        try
        {
            _shell.StandardInput.Close();
            if (!_shell.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                _shell.Kill(entireProcessTree: true);
                _shell.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // never started
        }
        _shell.Dispose();
    }
}
