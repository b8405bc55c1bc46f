using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CliWrap;
using Microsoft.Extensions.Logging;

namespace Porter.Server.Cni.Invocation;

/// <summary>One plugin execution: the binary, CNI_COMMAND, the complete environment and stdin.</summary>
public sealed record PluginInvocation(
    string PluginType,
    string PluginPath,
    string Command,
    IReadOnlyList<KeyValuePair<string, string>> Environment,
    byte[] Stdin,
    TimeSpan Timeout);

/// <summary>
/// Runs a CNI plugin binary per the spec's process contract, on CliWrap: config on stdin, result or error object on
/// stdout, logs on stderr. What CliWrap leaves to us is kept here: output is captured up to a bound (and drained past
/// it, so the plugin never blocks on a full pipe); the environment is exactly the CNI variables (CliWrap merges with the
/// daemon's, so every inherited variable is removed); a timeout kills the plugin with all its children (a child still
/// holding stdout would otherwise keep CliWrap waiting); and, like libcni, "text file busy" is retried.
/// </summary>
public sealed class PluginExecutor(ILogger<PluginExecutor> logger)
{
    private const int MaxOutput = 4 * 1024 * 1024;
    private const int TextFileBusy = 26; // ETXTBSY

    public async Task<byte[]> ExecAsync(PluginInvocation invocation, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RunOnceAsync(invocation, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (StartError(e) is { NativeErrorCode: TextFileBusy } && attempt < 5)
            {
                // The binary is being replaced (package upgrade); libcni retries the same way.
                await Task.Delay(50 * attempt, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (StartError(e) is { } start)
            {
                throw new CniException($"could not start CNI plugin '{invocation.PluginType}' at {invocation.PluginPath}: {start.Message}", e);
            }
        }
    }

    private async Task<byte[]> RunOnceAsync(PluginInvocation invocation, CancellationToken cancellationToken)
    {
        var stdout = new BoundedBuffer(MaxOutput);
        var stderr = new BoundedBuffer(MaxOutput);
        var command = Cli.Wrap(invocation.PluginPath)
            .WithWorkingDirectory("/")
            .WithEnvironmentVariables(Environment(invocation.Environment))
            .WithStandardInputPipe(PipeSource.FromBytes(invocation.Stdin))
            .WithStandardOutputPipe(PipeTarget.Create(stdout.FillAsync))
            .WithStandardErrorPipe(PipeTarget.Create(stderr.FillAsync))
            .WithValidation(CommandResultValidation.None);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = command.ExecuteAsync(timeout.Token);
        // On timeout (or the caller's cancellation) the whole tree goes, before CliWrap waits for stdout to close.
        using var killer = timeout.Token.Register(() => KillTree(run.ProcessId));
        timeout.CancelAfter(invocation.Timeout);
        CommandResult result;
        try
        {
            result = await run.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CniTimeoutException(invocation.PluginType, invocation.Command, invocation.Timeout);
        }

        var stderrText = Encoding.UTF8.GetString(stderr.Bytes).Trim();
        if (stderrText.Length > 0)
        {
            logger.LogDebug("plugin {Type} {Command} stderr: {Stderr}", invocation.PluginType, invocation.Command, stderrText);
        }
        if (stdout.Truncated)
        {
            throw new CniException($"CNI plugin '{invocation.PluginType}' wrote more than {MaxOutput} bytes ({invocation.Command})");
        }
        if (result.ExitCode == 0)
        {
            return stdout.Bytes;
        }
        throw ParseError(invocation, result.ExitCode, stdout.Bytes, stderrText);
    }

    /// <summary>Exactly the invocation's variables: everything the daemon has is removed (null), then these are set.</summary>
    private static Dictionary<string, string?> Environment(IReadOnlyList<KeyValuePair<string, string>> variables)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var key in System.Environment.GetEnvironmentVariables().Keys.Cast<string>())
        {
            environment[key] = null;
        }
        foreach (var (key, value) in variables)
        {
            environment[key] = value;
        }
        return environment;
    }

    /// <summary>The operating system's reason when the process could not be started at all (CliWrap wraps it).</summary>
    private static Win32Exception? StartError(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is Win32Exception w)
            {
                return w;
            }
        }
        return null;
    }

    private void KillTree(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or Win32Exception)
        {
            logger.LogDebug("plugin process {Pid} already gone", pid);
        }
    }

    /// <summary>Keeps the first <c>limit</c> bytes of a stream and drains the rest.</summary>
    private sealed class BoundedBuffer(int limit)
    {
        private readonly MemoryStream _kept = new();

        public bool Truncated { get; private set; }

        public byte[] Bytes => _kept.ToArray();

        public async Task FillAsync(Stream stream, CancellationToken cancellationToken)
        {
            var chunk = new byte[16384];
            int n;
            while ((n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (_kept.Length + n > limit)
                {
                    Truncated = true;
                    continue;
                }
                _kept.Write(chunk, 0, n);
            }
        }
    }

    /// <summary>stdout should hold {"code","msg","details"}; fall back the way libcni does when it does not.</summary>
    private static CniException ParseError(PluginInvocation invocation, int exitCode, byte[] stdout, string stderr)
    {
        if (stdout.Length > 0)
        {
            try
            {
                using var doc = JsonDocument.Parse(stdout);
                var root = doc.RootElement;
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("msg", out var msg) && msg.ValueKind == JsonValueKind.String)
                {
                    var code = root.TryGetProperty("code", out var c) && c.TryGetUInt32(out var v) ? v : 0u;
                    var details = root.TryGetProperty("details", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                    return new CniPluginException(invocation.PluginType, invocation.Command, code, msg.GetString()!, details, stderr);
                }
            }
            catch (JsonException)
            {
                // fall through
            }
            var text = Encoding.UTF8.GetString(stdout).Trim();
            return new CniPluginException(invocation.PluginType, invocation.Command, 999,
                $"exited with status {exitCode} and an unreadable error", Truncate(text.Length > 0 ? text : stderr), stderr);
        }
        var reason = stderr.Length > 0 ? Truncate(stderr) : $"exited with status {exitCode} and no message";
        return new CniPluginException(invocation.PluginType, invocation.Command, 999, reason, null, stderr);
    }

    private static string Truncate(string s) => s.Length <= 2000 ? s : s[..2000] + "...";
}
