using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Porter.Testbed.Systemd;

/// <summary>
/// A Debian 13 system booted with systemd as its PID 1 (systemd-nspawn --boot) on an overlay of
/// <see cref="SystemdRoot"/>, in a network namespace of its own (systemd-nspawn's private network) into which the
/// uplink of a <see cref="ScratchLan"/> is moved: its only link leads to the scratch LAN, so nothing it does reaches
/// the machine's own interfaces. (A private network, not --network-namespace-path: only then does systemd-nspawn leave
/// /proc/sys/net writable and CAP_NET_ADMIN in the container's bounding set.) The overlay is
/// mounted in a mount namespace of its own that ends with systemd-nspawn, so nothing is left mounted on the machine
/// whatever happens; disposing halts the system (SIGTERM, then SIGKILL) and removes the namespaces and the overlay.
/// out/packages is visible inside, read-only, at /packages.
/// </summary>
public sealed class BootedSystem : IDisposable
{
    private const string Path_ = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private readonly Process _nspawn;
    private readonly StringBuilder _console = new();
    private readonly string _work;

    private BootedSystem(ScratchLan lan, string work, Process nspawn)
    {
        Lan = lan;
        _work = work;
        _nspawn = nspawn;
    }

    public ScratchLan Lan { get; }

    /// <summary>The system's PID 1 (systemd), as the machine sees it.</summary>
    public int Leader { get; private set; }

    /// <summary>What systemd-nspawn printed (the container's console is passive: only nspawn's own messages).</summary>
    public string Console
    {
        get
        {
            lock (_console)
            {
                return _console.ToString();
            }
        }
    }

    public static BootedSystem Boot()
    {
        var root = SystemdRoot.Ensure();
        System.IO.Directory.CreateDirectory(Packages.Directory);
        var lan = ScratchLan.Create();
        var work = System.IO.Directory.CreateTempSubdirectory("npt-systemd-").FullName;
        BootedSystem? system = null;
        try
        {
            foreach (var dir in new[] { "upper", "work", "merged" })
            {
                System.IO.Directory.CreateDirectory(Path.Combine(work, dir));
            }
            // unshare execs sh, sh execs systemd-nspawn: the process started here is systemd-nspawn itself.
            var script = "set -e; mount -t overlay overlay -o \"lowerdir=$1,upperdir=$2/upper,workdir=$2/work\" \"$2/merged\"; " +
                "exec systemd-nspawn -D \"$2/merged\" --boot --register=no --keep-unit --console=passive " +
                "--private-network --bind-ro=\"$3:/packages\"";
            var startInfo = new ProcessStartInfo("unshare")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", root, work, Packages.Directory })
            {
                startInfo.ArgumentList.Add(arg);
            }
            var nspawn = Process.Start(startInfo) ?? throw new TestbedException("cannot start systemd-nspawn");
            system = new BootedSystem(lan, work, nspawn);
            nspawn.OutputDataReceived += (_, e) => system.Append(e.Data);
            nspawn.ErrorDataReceived += (_, e) => system.Append(e.Data);
            nspawn.BeginOutputReadLine();
            nspawn.BeginErrorReadLine();
            Wait.Until(() => nspawn.HasExited || system.FindLeader(), TimeSpan.FromSeconds(30), "systemd-nspawn starting the system's PID 1", () => system.Console);
            if (nspawn.HasExited)
            {
                throw new TestbedException($"systemd-nspawn exited ({nspawn.ExitCode}): {system.Console}");
            }
            Shell.Check("ip", "-n", lan.HostNs, "link", "set", ScratchLan.Uplink, "netns", system.Leader.ToString(CultureInfo.InvariantCulture));
            // systemctl answers only once the system's bus is up; until then it fails at once.
            ShellResult? running = null;
            Wait.Until(() => (running = system.Run(["systemctl", "is-system-running", "--wait"], timeout: TimeSpan.FromSeconds(90))).Stdout.Trim() is "running" or "degraded"
                    || nspawn.HasExited,
                TimeSpan.FromSeconds(90), "the booted system to finish starting", () => $"{running}\n{system.Console}");
            if (running!.Stdout.Trim() != "running")
            {
                throw new TestbedException($"the booted system is not running: {running}\n{system.Run(["systemctl", "--failed", "--no-pager"])}\n{system.Console}");
            }
            system.Check("ip", "link", "set", ScratchLan.Uplink, "up");
            return system;
        }
        catch
        {
            if (system is not null)
            {
                system.Dispose();
            }
            else
            {
                lan.Dispose();
                Shell.Try("rm", "-rf", work);
            }
            throw;
        }
    }

    /// <summary>Runs a command inside the system (all its namespaces), with a clean environment.</summary>
    public ShellResult Run(IEnumerable<string> command, string? stdin = null, TimeSpan? timeout = null) =>
        Shell.Run("nsenter", ["-t", Leader.ToString(CultureInfo.InvariantCulture), "-a", "--", "env", "-i", $"PATH={Path_}",
            "LANG=C.UTF-8", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0", "DEBIAN_FRONTEND=noninteractive", .. command], stdin, timeout ?? TimeSpan.FromSeconds(120));

    public ShellResult Run(params string[] command) => Run(command, null, null);

    /// <summary>Runs a command and requires success; returns its stdout.</summary>
    public string Check(params string[] command)
    {
        var result = Run(command);
        return result.ExitCode == 0 ? result.Stdout : throw new TestbedException($"{string.Join(' ', command)} failed in the booted system: {result}");
    }

    /// <summary>A shell script inside the system, as root.</summary>
    public ShellResult Sh(string script, string? stdin = null, TimeSpan? timeout = null) => Run(["sh", "-euc", script], stdin, timeout);

    /// <summary>A shell script inside the system as USER (their uid, gid and groups, HOME and XDG_RUNTIME_DIR), nothing of root's kept.</summary>
    public ShellResult As(string user, string script, string? stdin = null, TimeSpan? timeout = null)
    {
        var uid = Check("id", "-u", user).Trim();
        return Run(["setpriv", $"--reuid={user}", $"--regid={user}", "--init-groups", "env", "-i", $"PATH={Path_}", $"HOME=/home/{user}",
            $"USER={user}", $"XDG_RUNTIME_DIR=/run/user/{uid}", "sh", "-euc", script], stdin, timeout);
    }

    /// <summary>Writes a file inside the system (through its own namespaces: the overlay is not mounted on the machine).</summary>
    public void WriteFile(string path, string content, string mode = "0644") =>
        CheckSh($"mkdir -p \"$(dirname '{path}')\" && cat > '{path}' && chmod {mode} '{path}'", content);

    public string ReadFile(string path) => Check("cat", path);

    public string CheckSh(string script, string? stdin = null)
    {
        var result = Sh(script, stdin);
        return result.ExitCode == 0 ? result.Stdout : throw new TestbedException($"script failed in the booted system: {script}\n{result}");
    }

    /// <summary>One property of a unit (systemctl show -p NAME --value).</summary>
    public string Property(string unit, string name) => Check("systemctl", "show", "-p", name, "--value", unit).Trim();

    /// <summary>The unit's journal since the given cursor (or everything), as plain lines.</summary>
    public string Journal(string unit, string? since = null) =>
        Run(["journalctl", "-u", unit, "--no-pager", "-o", "cat", .. since is null ? Array.Empty<string>() : ["--after-cursor", since]]).Stdout;

    /// <summary>The journal's current end, to read only what comes after it.</summary>
    public string Cursor() => Run("journalctl", "-n", "0", "--show-cursor", "--no-pager").Stdout.Split("-- cursor: ", 2) is [_, var cursor] ? cursor.Trim() : "";

    /// <summary>Waits until the unit's journal (after the cursor) contains the text; returns that journal.</summary>
    public string WaitForJournal(string unit, string text, string? since, TimeSpan timeout)
    {
        var journal = "";
        Wait.Until(() => (journal = Journal(unit, since)).Contains(text, StringComparison.Ordinal), timeout, $"'{text}' in the journal of {unit}", () => journal);
        return journal;
    }

    public void Dispose()
    {
        if (!_nspawn.HasExited)
        {
            // SIGTERM makes systemd-nspawn halt the system in order; SIGKILL if that takes too long.
            Shell.Try("kill", "-TERM", _nspawn.Id.ToString(CultureInfo.InvariantCulture));
            if (!_nspawn.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                _nspawn.Kill(entireProcessTree: true);
                _nspawn.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        _nspawn.Dispose();
        Lan.Dispose();
        Shell.Try("rm", "-rf", "--one-file-system", _work);
    }

    private bool FindLeader()
    {
        try
        {
            foreach (var task in System.IO.Directory.EnumerateDirectories($"/proc/{_nspawn.Id}/task"))
            {
                foreach (var child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var pid = int.Parse(child, CultureInfo.InvariantCulture);
                    if (File.ReadAllText($"/proc/{pid}/comm").Trim() == "systemd")
                    {
                        Leader = pid;
                        return true;
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        return false;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_console)
        {
            _console.AppendLine(line);
        }
    }
}
