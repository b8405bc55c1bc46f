using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Porter.Server.Attachments;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Invocation;
using Porter.Server.Cni.Runtime;
using Porter.Server.Configuration;
using Porter.Server.Namespaces;
using Porter.Server.Native;

namespace Porter.Server.Dhcp;

/// <summary>
/// The CNI "dhcp" daemon, run by the server so that an administrator needs nothing else: started when a DHCP network
/// is first used, its socket in the state directory, a stale socket or a daemon left from an earlier server removed
/// first, and restarted if it dies. The daemon keeps leases only in memory, so every (re)start is announced through
/// <see cref="Started"/>, for the leases of running containers to be acquired again.
/// </summary>
public sealed class DhcpDaemon(ConfigStore store, ILogger<DhcpDaemon> logger) : IListPreparer, IHelperProcesses, IAsyncDisposable
{
    private const int SIGTERM = 15;
    private const int SIGKILL = 9;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Process? _process;
    private volatile bool _stopping;

    /// <summary>Raised after a new daemon process is accepting requests.</summary>
    public event Func<Task>? Started;

    public string SocketPath => ServerSnapshot.DhcpSocketPath(store.Current.Config.StateDir);

    private string PidFile => Path.Combine(Path.GetDirectoryName(SocketPath)!, "dhcp.pid");

    public IEnumerable<int> Pids => _process is { HasExited: false } p ? [p.Id] : [];

    public Task PrepareAsync(NetworkConfigList list, CancellationToken cancellationToken) =>
        list.UsesDhcp ? EnsureRunningAsync(cancellationToken) : Task.CompletedTask;

    public async Task EnsureRunningAsync(CancellationToken cancellationToken)
    {
        var started = false;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_stopping || (_process is { HasExited: false } && IsListening()))
            {
                return;
            }
            await StartAsync(cancellationToken).ConfigureAwait(false);
            started = true;
        }
        finally
        {
            _gate.Release();
        }
        if (started && Started is { } handler)
        {
            await handler().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_process is { HasExited: false } process)
            {
                Libc.Kill(process.Id, SIGTERM);
                if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
                {
                    process.Kill();
                }
            }
            _process?.Dispose();
            _process = null;
            if (Directory.Exists(Path.GetDirectoryName(SocketPath)))
            {
                File.Delete(SocketPath);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var config = store.Current.Config;
        var directory = Path.GetDirectoryName(SocketPath)!;
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        StopLeftover();
        // The daemon refuses to start on an existing socket file.
        File.Delete(SocketPath);

        var binary = Path.Combine(config.CniPluginDir, "dhcp");
        var startInfo = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        startInfo.Environment.Clear();
        startInfo.Environment["PATH"] = Native.SystemPaths.Search;
        var timeout = ((int)config.Dhcp.RequestTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
        string[] args = ["daemon", "-socketpath", SocketPath, "-pidfile", PidFile, "-timeout", timeout, "-resendmax", "4s"];
        foreach (var arg in config.Dhcp.Broadcast ? [.. args, "-broadcast"] : args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new CniException("the DHCP daemon could not be started");
        }
        catch (Win32Exception e)
        {
            throw new CniException($"the DHCP daemon could not be started ({binary}): {e.Message}", e);
        }
        process.OutputDataReceived += (_, e) => Log(e.Data);
        process.ErrorDataReceived += (_, e) => Log(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => OnExited(process);
        _process = process;

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!IsListening())
        {
            if (process.HasExited)
            {
                throw new CniException($"the DHCP daemon exited at start with status {process.ExitCode} (see the server log)");
            }
            if (DateTime.UtcNow > deadline)
            {
                process.Kill();
                throw new CniException("the DHCP daemon did not open its socket within 10 s");
            }
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
        logger.LogInformation("DHCP daemon started (pid {Pid}, {Socket})", process.Id, SocketPath);
    }

    private void OnExited(Process process)
    {
        if (_stopping || !ReferenceEquals(process, _process))
        {
            return;
        }
        logger.LogWarning("the DHCP daemon (pid {Pid}) exited with status {Status}; restarting it", process.Id, process.ExitCode);
        _ = Task.Run(async () =>
        {
            await Task.Delay(200).ConfigureAwait(false);
            try
            {
                await EnsureRunningAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is CniException or IOException)
            {
                logger.LogError("the DHCP daemon could not be restarted: {Error}", e.Message);
            }
        });
    }

    /// <summary>A daemon left by an earlier server (killed with -9) still holds the socket: stop it, its leases are re-acquired.</summary>
    private void StopLeftover()
    {
        if (!File.Exists(PidFile) || !int.TryParse(File.ReadAllText(PidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return;
        }
        string commandLine;
        try
        {
            commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return; // not running
        }
        if (!commandLine.Contains("daemon", StringComparison.Ordinal) || !commandLine.Contains(SocketPath, StringComparison.Ordinal))
        {
            return; // the pid was reused by something else
        }
        logger.LogInformation("stopping the DHCP daemon left by an earlier server (pid {Pid})", pid);
        Libc.Kill(pid, SIGTERM);
        for (var i = 0; i < 100 && Directory.Exists($"/proc/{pid}"); i++)
        {
            Thread.Sleep(20);
        }
        if (Directory.Exists($"/proc/{pid}"))
        {
            Libc.Kill(pid, SIGKILL);
        }
    }

    private bool IsListening()
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(SocketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Log(string? line)
    {
        if (!string.IsNullOrWhiteSpace(line))
        {
            logger.LogDebug("dhcp daemon: {Line}", line);
        }
    }
}
