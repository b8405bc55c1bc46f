using System.Diagnostics;
using System.Globalization;

namespace Porter.Testbed;

/// <summary>
/// A process with a network namespace of its own, as `net-porter attach --pid` expects one: a user's
/// `unshare -rn sleep infinity` (its own user namespace, so the user owns the network namespace), or root's
/// `unshare -n`. Started through setpriv, so it is genuinely the user's; killed on dispose.
/// </summary>
public sealed class UnsharedProcess : IDisposable
{
    private readonly Process _process;

    private UnsharedProcess(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public string PidText => Pid.ToString(CultureInfo.InvariantCulture);

    public static UnsharedProcess Start(TestUser? user)
    {
        var start = new ProcessStartInfo(user is null ? "unshare" : "setpriv") { UseShellExecute = false, RedirectStandardError = true };
        string[] argv = user is null
            ? ["-n", "sleep", "infinity"]
            : [$"--reuid={user.Uid}", $"--regid={user.Gid}", "--init-groups", "--", "unshare", "-rn", "sleep", "infinity"];
        foreach (var arg in argv)
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new TestbedException("cannot start unshare");
        var started = new UnsharedProcess(process);
        try
        {
            // setpriv and unshare exec each other: the pid is the sleep once it runs, in its new namespaces by then.
            Wait.Until(() => process.HasExited || Comm(process.Id) == "sleep", TimeSpan.FromSeconds(10), "unshare -n sleep to run");
            if (process.HasExited)
            {
                throw new TestbedException($"unshare exited: {process.StandardError.ReadToEnd()}");
            }
        }
        catch
        {
            started.Dispose();
            throw;
        }
        return started;
    }

    /// <summary>The inode of the process's network namespace.</summary>
    public ulong NetnsInode
    {
        get
        {
            var target = new FileInfo($"/proc/{Pid}/ns/net").LinkTarget!;
            return ulong.Parse(target[5..^1], CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Runs a command inside the process's network namespace (as root).</summary>
    public ShellResult In(params string[] command) => Shell.Run("nsenter", ["-t", PidText, "-n", "--", .. command], null, TimeSpan.FromSeconds(60));

    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static string Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }
}
