using System.Diagnostics;

namespace Porter.Plugin.Netns;

/// <summary>iproute2's `ip`, run with an argument list (never a shell); a failure carries ip's own message.</summary>
public static class IpRoute
{
    public static void Run(params string[] args)
    {
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new PluginException("cannot run ip (iproute2)");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new PluginException($"cannot run ip (is iproute2 installed?): {e.Message}");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            _ = stdout.Result;
            if (process.ExitCode != 0)
            {
                throw new PluginException($"ip {string.Join(' ', args)} failed: {stderr.Trim()}");
            }
        }
    }
}
