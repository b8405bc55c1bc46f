using System.Diagnostics;
using System.Text;

namespace Porter.Testbed;

/// <summary>
/// net-porter-server, the published binary, started in the scratch host namespace with a workspace's
/// configuration. Its output is collected so that a failing test can show the server's side.
/// </summary>
public sealed class PorterServerProcess : IDisposable
{
    private readonly StringBuilder _log = new();
    private readonly Process _process;

    private PorterServerProcess(Process process, Workspace workspace)
    {
        _process = process;
        Workspace = workspace;
    }

    public Workspace Workspace { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts the server inside <paramref name="lan"/>'s host namespace and waits until it accepts connections.</summary>
    public static PorterServerProcess Start(ScratchLan lan, Workspace workspace, TimeSpan? readyTimeout = null, string? serverBinary = null)
    {
        var startInfo = new ProcessStartInfo("nsenter")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { $"--net={lan.HostNsPath}", "--", serverBinary ?? Artifacts.ServerBinary, "--config", workspace.ConfigPath })
        {
            startInfo.ArgumentList.Add(arg);
        }
        var process = Process.Start(startInfo) ?? throw new TestbedException("cannot start net-porter-server");
        var server = new PorterServerProcess(process, workspace);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        server.WaitUntilReady(readyTimeout ?? TimeSpan.FromSeconds(30));
        return server;
    }

    /// <summary>SIGHUP: reload the configuration.</summary>
    public void Reload() => Shell.Check("kill", "-HUP", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>SIGKILL, as a crash would: nothing is cleaned up.</summary>
    public void Crash()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGKILL to the server and every process it started, as systemd kills a service's cgroup.</summary>
    public void CrashWithChildren()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM and wait for a graceful exit.</summary>
    public void Stop()
    {
        if (_process.HasExited)
        {
            return;
        }
        Shell.Try("kill", "-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!_process.WaitForExit(TimeSpan.FromSeconds(15)))
        {
            _process.Kill();
        }
        _process.WaitForExit();
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }

    private void WaitUntilReady(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit();
                throw new TestbedException($"net-porter-server exited with {_process.ExitCode} during start-up:\n{Log}");
            }
            // Whatever the log level: ready is when the main socket accepts connections.
            if (Wait.Accepts(Workspace.SocketPath))
            {
                return;
            }
            Thread.Sleep(50);
        }
        Stop();
        throw new TestbedException($"net-porter-server did not become ready within {timeout.TotalSeconds} s:\n{Log}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
