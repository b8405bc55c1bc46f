using System.Runtime.InteropServices;

namespace Porter.Plugin.Netns;

/// <summary>
/// iproute2's `ip`, run with an argument list (never a shell) and a fixed PATH, its own messages going straight to
/// our stderr. Started with posix_spawnp rather than System.Diagnostics.Process: the plugin is one Native AOT binary
/// that netavark starts for every container, and every type linked into it costs start-up time on every call.
/// </summary>
public static class IpRoute
{
    private const string SearchPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static unsafe void Run(params string[] args)
    {
        string[] argv = ["ip", .. args];
        var strings = argv.Select(Marshal.StringToCoTaskMemUTF8).Append(Marshal.StringToCoTaskMemUTF8(SearchPath)).ToArray();
        try
        {
            var argvPointers = stackalloc IntPtr[argv.Length + 1];
            for (var i = 0; i < argv.Length; i++)
            {
                argvPointers[i] = strings[i];
            }
            argvPointers[argv.Length] = IntPtr.Zero;
            var envp = stackalloc IntPtr[2];
            envp[0] = strings[^1];
            envp[1] = IntPtr.Zero;
            // posix_spawnp looks "ip" up in our PATH; the child gets only the fixed one.
            var error = Libc.PosixSpawnp(out var pid, "ip", IntPtr.Zero, IntPtr.Zero, argvPointers, envp);
            if (error != 0)
            {
                throw new PluginException($"cannot run ip (is iproute2 installed?): {Marshal.GetPInvokeErrorMessage(error)}");
            }
            int status;
            while (Libc.Waitpid(pid, out status, 0) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EINTR)
                {
                    throw new PluginException($"waiting for ip {string.Join(' ', args)} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
                }
            }
            // WIFEXITED && WEXITSTATUS == 0
            if ((status & 0x7f) != 0 || ((status >> 8) & 0xff) != 0)
            {
                var how = (status & 0x7f) != 0 ? $"was killed by signal {status & 0x7f}" : $"exited with {(status >> 8) & 0xff}";
                throw new PluginException($"ip {string.Join(' ', args)} failed: it {how} (its message is above)");
            }
        }
        finally
        {
            foreach (var s in strings)
            {
                Marshal.FreeCoTaskMem(s);
            }
        }
    }
}
