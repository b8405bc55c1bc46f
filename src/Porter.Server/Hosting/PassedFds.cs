using System.Globalization;
using Porter.Server.Native;

namespace Porter.Server.Hosting;

/// <summary>One descriptor systemd passed: a socket of the .socket unit, or one the service stored with FDSTORE=1.</summary>
public readonly record struct PassedFd(int Fd, string Name);

/// <summary>
/// The descriptors systemd passes at start (sd_listen_fds_with_names(3)): LISTEN_FDS of them from fd 3 on, named by
/// LISTEN_FDNAMES (FileDescriptorName= of the socket, FDNAME= of a stored descriptor, "unknown" when unnamed), meant
/// for this process only if LISTEN_PID says so. Read once at start; the variables are removed so that no child
/// (CNI plugins, the DHCP daemon) believes they are meant for it.
/// </summary>
public static class PassedFds
{
    public const int First = 3;

    /// <summary>
    /// The descriptors meant for this process, each made close-on-exec; empty without LISTEN_FDS. When the variables
    /// are set but wrong the server refuses to start rather than guess (Kestrel's own UseSystemd would quietly listen
    /// on TCP localhost:5000).
    /// </summary>
    public static IReadOnlyList<PassedFd> Take()
    {
        var passed = Parse(Environment.GetEnvironmentVariable("LISTEN_PID"), Environment.GetEnvironmentVariable("LISTEN_FDS"),
            Environment.GetEnvironmentVariable("LISTEN_FDNAMES"), Environment.ProcessId);
        foreach (var name in new[] { "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES" })
        {
            Environment.SetEnvironmentVariable(name, null);
        }
        foreach (var fd in passed)
        {
            Libc.Fcntl(fd.Fd, Libc.F_SETFD, Libc.FD_CLOEXEC);
        }
        return passed;
    }

    /// <summary>The pure part of <see cref="Take"/>: what the three variables say, for process <paramref name="self"/>.</summary>
    public static IReadOnlyList<PassedFd> Parse(string? listenPid, string? listenFds, string? listenFdNames, int self)
    {
        if (string.IsNullOrEmpty(listenFds))
        {
            return [];
        }
        if (listenPid != self.ToString(CultureInfo.InvariantCulture))
        {
            throw new StartupException($"LISTEN_FDS is set, but LISTEN_PID ({listenPid ?? "unset"}) is not this process ({self}); refusing to guess which socket to use");
        }
        if (!int.TryParse(listenFds, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1 || count > 65536)
        {
            throw new StartupException($"LISTEN_FDS={listenFds} is not a positive number");
        }
        var names = string.IsNullOrEmpty(listenFdNames) ? [] : listenFdNames.Split(':');
        if (names.Length != 0 && names.Length != count)
        {
            throw new StartupException($"LISTEN_FDNAMES names {names.Length} descriptors, but LISTEN_FDS={count}; refusing to guess which is which");
        }
        var passed = new PassedFd[count];
        for (var i = 0; i < count; i++)
        {
            passed[i] = new PassedFd(First + i, names.Length == 0 || names[i].Length == 0 ? "unknown" : names[i]);
        }
        return passed;
    }
}
