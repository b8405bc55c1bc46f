using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Porter.Server.Namespaces;

/// <summary>
/// iproute2's ip, for the few link questions the server asks itself (not through a CNI plugin). It runs in the
/// server's network namespace, or in a container's through nsenter.
/// </summary>
public static class IpCommand
{
    /// <summary>`ip -j ARGS`, parsed; null when ip fails (e.g. the link does not exist).</summary>
    public static async Task<JsonArray?> QueryAsync(string? netnsPath, params string[] args)
    {
        var (exit, stdout) = await RunAsync(netnsPath, ["-j", .. args]).ConfigureAwait(false);
        if (exit != 0)
        {
            return null;
        }
        return stdout.Trim().Length == 0 ? [] : JsonNode.Parse(stdout) as JsonArray;
    }

    public static async Task<bool> RunOkAsync(params string[] args) => (await RunAsync(null, args).ConfigureAwait(false)).Exit == 0;

    private static async Task<(int Exit, string Stdout)> RunAsync(string? netnsPath, string[] args)
    {
        var startInfo = netnsPath is null ? new ProcessStartInfo("ip") : new ProcessStartInfo("nsenter");
        if (netnsPath is not null)
        {
            startInfo.ArgumentList.Add($"--net={netnsPath}");
            startInfo.ArgumentList.Add("--");
            startInfo.ArgumentList.Add("ip");
        }
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.UseShellExecute = false;
        startInfo.Environment["PATH"] = Native.SystemPaths.Search;
        using var process = Process.Start(startInfo) ?? throw new IOException("cannot run ip");
        using var stdoutStream = process.StandardOutput;
        using var stderrStream = process.StandardError;
        var stdout = stdoutStream.ReadToEndAsync();
        var stderr = stderrStream.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, "");
        }
        await stderr.ConfigureAwait(false);
        return (process.ExitCode, await stdout.ConfigureAwait(false));
    }
}
