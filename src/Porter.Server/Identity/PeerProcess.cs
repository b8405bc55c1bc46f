using Microsoft.Win32.SafeHandles;
using Porter.Server.Native;

namespace Porter.Server.Identity;

/// <summary>
/// The process on the other end of a connection: its kernel credentials and, where the kernel offers it,
/// a pidfd that keeps "pid N" meaning this very process for as long as we hold it. The connection holds one
/// reference and every call on it another, so the pidfd outlives a connection that closes while a call still works.
/// </summary>
public sealed class PeerProcess(PeerCredentials credentials, SafeFileHandle? pidfd, long acceptedAt = 0) : IDisposable
{
    private int _references = 1;
    private long _acceptedAt = acceptedAt;

    public PeerCredentials Credentials { get; } = credentials;
    public SafeFileHandle? Pidfd { get; } = pidfd;
    public int Pid => Credentials.Pid;

    /// <summary>
    /// True while the peer is still running. With a pidfd this is exact; without one (kernels before 6.5) it is
    /// checked by the owner of /proc/PID, which a reused pid would only match if the same user started it.
    /// </summary>
    public bool IsAlive()
    {
        if (Pidfd is { IsInvalid: false } fd)
        {
            return !Libc.PidfdExited((int)fd.DangerousGetHandle());
        }
        return Libc.StatxCall(Libc.AT_FDCWD, $"/proc/{Pid}", 0, Libc.STATX_BASIC_STATS, out var st) == 0
            && st.Uid == Credentials.Uid;
    }

    /// <summary>A reference for one call; false once the connection and every call have let go.</summary>
    public bool TryAddReference()
    {
        while (true)
        {
            var current = Volatile.Read(ref _references);
            if (current == 0)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Pidfd?.Dispose();
        }
    }

    /// <summary>When the connection was accepted (Stopwatch ticks), for the first call on it only; 0 after that, or if unknown.</summary>
    public long TakeAcceptedAt() => Interlocked.Exchange(ref _acceptedAt, 0);

    /// <summary>The connection's own reference.</summary>
    public void Dispose() => Release();
}
