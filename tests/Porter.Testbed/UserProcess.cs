using System.Diagnostics;
using System.Text;

namespace Porter.Testbed;

/// <summary>A command running in the background as an unprivileged user (in the host's namespaces).</summary>
public sealed class UserProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private UserProcess(Process process)
    {
        _process = process;
    }

    public static UserProcess Start(TestUser user, params string[] command)
    {
        var startInfo = new ProcessStartInfo("setpriv")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (var arg in new[] { $"--reuid={user.Uid}", $"--regid={user.Gid}", "--init-groups", "--" }.Concat(command))
        {
            startInfo.ArgumentList.Add(arg);
        }
        var process = Process.Start(startInfo) ?? throw new TestbedException($"cannot start {command[0]} as {user.Name}");
        var running = new UserProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (running._stdout) { running._stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (running._stderr) { running._stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return running;
    }

    public bool HasExited => _process.HasExited;

    public ShellResult WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            throw new TestbedException($"background process did not finish within {timeout.TotalSeconds} s: {Output()}");
        }
        _process.WaitForExit();
        return Output();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    private ShellResult Output()
    {
        lock (_stdout)
        {
            lock (_stderr)
            {
                return new ShellResult(_process.HasExited ? _process.ExitCode : -1, _stdout.ToString(), _stderr.ToString());
            }
        }
    }
}
