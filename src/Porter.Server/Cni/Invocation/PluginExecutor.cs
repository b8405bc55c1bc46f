using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
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
/// Runs a CNI plugin binary per the spec's process contract: config on stdin, result or error object on stdout,
/// logs on stderr. Like libcni it retries "text file busy", and unlike libcni it bounds the run time.
/// </summary>
public sealed class PluginExecutor(ILogger<PluginExecutor> logger)
{
    private const int MaxOutput = 4 * 1024 * 1024;
    private const int TextFileBusy = 26; // ETXTBSY

    public async Task<byte[]> ExecAsync(PluginInvocation invocation, CancellationToken cancellationToken)
    {
        using var process = Start(invocation);
        // Process.Dispose does not close redirected streams once they were used directly: close all three here,
        // or every plugin run leaks pipe descriptors (stdin too, when the write fails because the plugin exited).
        using var stdoutStream = process.StandardOutput.BaseStream;
        using var stderrStream = process.StandardError.BaseStream;
        var stdoutTask = ReadBoundedAsync(stdoutStream);
        var stderrTask = ReadBoundedAsync(stderrStream);
        using (var stdinStream = process.StandardInput.BaseStream)
        {
            try
            {
                await stdinStream.WriteAsync(invocation.Stdin, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The plugin exited without reading all of stdin; its exit status says why.
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(invocation.Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw new CniTimeoutException(invocation.PluginType, invocation.Command, invocation.Timeout);
        }

        var (stdout, stdoutTruncated) = await stdoutTask.ConfigureAwait(false);
        var (stderrBytes, _) = await stderrTask.ConfigureAwait(false);
        var stderr = Encoding.UTF8.GetString(stderrBytes).Trim();
        if (stderr.Length > 0)
        {
            logger.LogDebug("plugin {Type} {Command} stderr: {Stderr}", invocation.PluginType, invocation.Command, stderr);
        }
        if (stdoutTruncated)
        {
            throw new CniException($"CNI plugin '{invocation.PluginType}' wrote more than {MaxOutput} bytes ({invocation.Command})");
        }
        if (process.ExitCode == 0)
        {
            return stdout;
        }
        throw ParseError(invocation, process.ExitCode, stdout, stderr);
    }

    private Process Start(PluginInvocation invocation)
    {
        var startInfo = new ProcessStartInfo(invocation.PluginPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        // Plugins get exactly the CNI variables and a PATH, nothing inherited from the daemon.
        startInfo.Environment.Clear();
        foreach (var (key, value) in invocation.Environment)
        {
            startInfo.Environment[key] = value;
        }
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return Process.Start(startInfo) ?? throw new CniException($"could not start CNI plugin '{invocation.PluginType}'");
            }
            catch (Win32Exception e) when (e.NativeErrorCode == TextFileBusy && attempt < 5)
            {
                // The binary is being replaced (package upgrade); libcni retries the same way.
                Thread.Sleep(50 * attempt);
            }
            catch (Win32Exception e)
            {
                throw new CniException($"could not start CNI plugin '{invocation.PluginType}' at {invocation.PluginPath}: {e.Message}", e);
            }
        }
    }

    private void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception)
        {
            logger.LogDebug(e, "plugin process already gone");
        }
    }

    private static async Task<(byte[] Bytes, bool Truncated)> ReadBoundedAsync(Stream stream)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16384];
        var truncated = false;
        int n;
        while ((n = await stream.ReadAsync(chunk).ConfigureAwait(false)) > 0)
        {
            // Keep draining past the limit so the plugin never blocks on a full pipe.
            if (buffer.Length + n > MaxOutput)
            {
                truncated = true;
                continue;
            }
            buffer.Write(chunk, 0, n);
        }
        return (buffer.ToArray(), truncated);
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
