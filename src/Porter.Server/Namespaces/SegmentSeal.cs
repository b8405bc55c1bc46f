using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Porter.Server.Namespaces;

/// <summary>
/// Seals a segment's host bridge off from the host (in the server's network namespace, the host's): the bridge gets
/// no IPv6 (so no link-local address, and IPv6 arriving on it is dropped), answers no ARP for the host's addresses,
/// and the host's firewall drops what arrives on it for the host itself and what would be routed into or out of it.
/// A bridge without an address is not enough: Linux answers for any of its addresses on any interface (weak host
/// model), so a container that knows the bridge's MAC could otherwise reach the host's services or its routes.
/// Frames between the segment's ports are bridged and never meet these rules. Every step is idempotent.
/// </summary>
public static class SegmentSeal
{
    public static async Task SealAsync(string bridge)
    {
        WriteSysctl($"/proc/sys/net/ipv6/conf/{bridge}/disable_ipv6", "1");
        WriteSysctl($"/proc/sys/net/ipv4/conf/{bridge}/arp_ignore", "8");
        foreach (var rule in Rules(bridge))
        {
            if (await RunAsync("iptables", ["-w", "-C", .. rule]).ConfigureAwait(false) != 0)
            {
                var (exit, error) = await RunWithErrorAsync("iptables", ["-w", "-I", .. rule]).ConfigureAwait(false);
                if (exit != 0)
                {
                    throw new IOException($"cannot seal segment bridge {bridge}: iptables -I {string.Join(' ', rule)} failed: {error.Trim()}");
                }
            }
        }
        var addresses = (await IpCommand.QueryAsync(null, "addr", "show", "dev", bridge).ConfigureAwait(false))?
            .SelectMany(link => link?["addr_info"] as JsonArray ?? [])
            .Select(a => $"{a?["local"]?.GetValue<string>()}/{a?["prefixlen"]?.GetValue<int>()}")
            .ToList() ?? [];
        if (addresses.Count > 0)
        {
            throw new IOException($"segment bridge {bridge} has addresses on the host ({string.Join(", ", addresses)}); a segment's bridge must have none");
        }
    }

    /// <summary>Drops the firewall rules of a bridge that was removed.</summary>
    public static async Task RemoveRulesAsync(string bridge)
    {
        foreach (var rule in Rules(bridge))
        {
            // -D removes one copy; a crash between -C and -I could have left two.
            for (var i = 0; i < 4 && await RunAsync("iptables", ["-w", "-D", .. rule]).ConfigureAwait(false) == 0; i++)
            {
            }
        }
    }

    private static IEnumerable<string[]> Rules(string bridge)
    {
        string[] comment = ["-m", "comment", "--comment", $"net-porter segment {bridge}", "-j", "DROP"];
        yield return ["INPUT", "-i", bridge, .. comment];
        yield return ["FORWARD", "-i", bridge, "!", "-o", bridge, .. comment];
        yield return ["FORWARD", "!", "-i", bridge, "-o", bridge, .. comment];
    }

    private static void WriteSysctl(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot seal segment bridge: writing {value} to {path} failed: {e.Message}", e);
        }
    }

    private static async Task<int> RunAsync(string file, string[] args) => (await RunWithErrorAsync(file, args).ConfigureAwait(false)).Exit;

    private static async Task<(int Exit, string Error)> RunWithErrorAsync(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["PATH"] = Native.SystemPaths.Search;
        using var process = Process.Start(start) ?? throw new IOException($"cannot run {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{file} did not finish within 30 s");
        }
        await stdout.ConfigureAwait(false);
        return (process.ExitCode, await stderr.ConfigureAwait(false));
    }
}
