using System.Diagnostics;
using System.Globalization;

namespace Porter.Testbed.Podman;

/// <summary>
/// The Debian 13 world real rootless podman runs in (scripts/e2e/holder.sh): a process with its own mount namespace,
/// pivoted into the cached root, in the scratch host's network namespace (so that pasta and rootlessport never bind
/// anything on the machine's own network). Users enter it with nsenter and setpriv. /run/user is the workspace's
/// runtime root, a tmpfs the server outside shares, so podman finds the per-user sockets at /run/user/UID. Killing
/// the holder and the users' processes removes the whole world; the root itself is left as it was.
/// </summary>
public sealed class PodmanHost : IDisposable
{
    public const string Image = "localhost/busybox";
    private const string Path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private readonly Process _holder;

    private PodmanHost(Process holder, int pid)
    {
        _holder = holder;
        Pid = pid;
    }

    /// <summary>The holder's pid: its mount namespace is the Debian 13 world.</summary>
    public int Pid { get; }

    public static PodmanHost Start(ScratchLan lan, Workspace workspace, IReadOnlyList<TestUser> users)
    {
        var root = DebianRoot.Ensure();
        var etc = WriteUserDatabase(root, workspace, users);
        // podman wants its runtime directories on a tmpfs, as logind makes them.
        if (Shell.Run("mountpoint", "-q", workspace.UserRuntimeRoot).ExitCode != 0)
        {
            Shell.Check("mount", "-t", "tmpfs", "-o", "mode=0755,nosuid,nodev", "tmpfs", workspace.UserRuntimeRoot);
        }
        var script = System.IO.Path.Combine(Artifacts.RepoRoot, "scripts", "e2e", "holder.sh");
        var startInfo = new ProcessStartInfo("nsenter")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     $"--net={lan.HostNsPath}", "--", "unshare", "--mount", "--propagation", "private", "--kill-child", "--",
                     script, root, workspace.UserRuntimeRoot, etc, workspace.PluginPath,
                 })
        {
            startInfo.ArgumentList.Add(arg);
        }
        var process = Process.Start(startInfo) ?? throw new TestbedException("cannot start the podman world's holder");
        var stderr = process.StandardError.ReadToEndAsync();
        var ready = process.StandardOutput.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(30)) || ready.Result is not { } line || !line.StartsWith("ready ", StringComparison.Ordinal))
        {
            Kill(process);
            throw new TestbedException($"the podman world's holder did not come up: {(stderr.Wait(TimeSpan.FromSeconds(5)) ? stderr.Result : "")}");
        }
        var host = new PodmanHost(process, int.Parse(line[6..], CultureInfo.InvariantCulture));
        try
        {
            host.MakeImageTarball();
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return host;
    }

    /// <summary>A command as root inside the world (the scratch host's network namespace).</summary>
    public ShellResult AsRoot(params string[] command) =>
        Shell.Run("nsenter", ["-m", "-n", "-t", Pid.ToString(CultureInfo.InvariantCulture), "--", "env", "-i", $"PATH={Path}", .. command], null, TimeSpan.FromSeconds(60));

    /// <summary>A command as the user, logged in the way rootless podman expects: HOME, XDG_RUNTIME_DIR, own groups.</summary>
    public ShellResult AsUser(TestUser user, IEnumerable<string> command, TimeSpan? timeout = null)
    {
        var uid = user.Uid.ToString(CultureInfo.InvariantCulture);
        return Shell.Run("nsenter", [
            "-m", "-n", "-t", Pid.ToString(CultureInfo.InvariantCulture), "--",
            "setpriv", $"--reuid={uid}", $"--regid={user.Gid.ToString(CultureInfo.InvariantCulture)}", "--init-groups", "--",
            "env", "-i", $"HOME=/home/{user.Name}", $"USER={user.Name}", $"XDG_RUNTIME_DIR=/run/user/{uid}", $"PATH={Path}", "LANG=C.UTF-8",
            .. command,
        ], null, timeout ?? TimeSpan.FromSeconds(120));
    }

    public void Dispose()
    {
        Kill(_holder);
        _holder.Dispose();
    }

    /// <summary>No registry can be reached: an image is made from the root's busybox-static and its applet links.</summary>
    private void MakeImageTarball()
    {
        var made = AsRoot("sh", "-c",
            "set -e; mkdir -p /tmp/image/bin /tmp/image/etc /tmp/image/var/www; cp /bin/busybox /tmp/image/bin/; cd /tmp/image/bin; " +
            "for a in $(./busybox --list); do [ \"$a\" = busybox ] || ln -s busybox \"$a\"; done; " +
            "echo 'hello from a net-porter container' > /tmp/image/var/www/index.html; " +
            "cd /tmp/image && tar cf /tmp/busybox.tar . && chmod 0644 /tmp/busybox.tar");
        if (made.ExitCode != 0)
        {
            throw new TestbedException($"cannot make the busybox image tarball: {made}");
        }
    }

    /// <summary>passwd, group, subuid and subgid of the root plus the run's users (same uids as on the host).</summary>
    private static string WriteUserDatabase(string root, Workspace workspace, IReadOnlyList<TestUser> users)
    {
        var etc = System.IO.Path.Combine(workspace.Root, "podman-etc");
        Directory.CreateDirectory(etc);
        var passwd = File.ReadAllText(System.IO.Path.Combine(root, "etc", "passwd")).TrimEnd('\n') + "\n";
        var group = File.ReadAllText(System.IO.Path.Combine(root, "etc", "group")).TrimEnd('\n') + "\n";
        var subids = "";
        var groups = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < users.Count; i++)
        {
            var user = users[i];
            passwd += Shell.Check("getent", "passwd", user.Name).Trim() + "\n";
            foreach (var name in Shell.Check("id", "-Gn", user.Name).Split(" ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (groups.Add(name))
                {
                    group += Shell.Check("getent", "group", name).Trim() + "\n";
                }
            }
            subids += $"{user.Name}:{200000 + (i * 65536)}:65536\n";
        }
        File.WriteAllText(System.IO.Path.Combine(etc, "passwd"), passwd);
        File.WriteAllText(System.IO.Path.Combine(etc, "group"), group);
        File.WriteAllText(System.IO.Path.Combine(etc, "subuid"), subids);
        File.WriteAllText(System.IO.Path.Combine(etc, "subgid"), subids);
        return etc;
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }
}
