using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace Porter.Server.Identity;

/// <summary>The connected process as the kernel recorded it at connect() time, in the server's namespaces.</summary>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private const int SoPeerPidfd = 77;

    public static PeerCredentials Read(Socket socket)
    {
        Span<byte> ucred = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length != 12)
        {
            throw new InvalidOperationException($"SO_PEERCRED returned {length} bytes instead of 12");
        }
        return new PeerCredentials(
            BinaryPrimitives.ReadInt32LittleEndian(ucred),
            BinaryPrimitives.ReadUInt32LittleEndian(ucred[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(ucred[8..]));
    }

    /// <summary>
    /// A pidfd of the peer (SO_PEERPIDFD, Linux 6.5+). It pins the very process that connected, so a pid that
    /// is reused after it exits cannot redirect anything done on its behalf. Null when the kernel lacks it.
    /// </summary>
    public static SafeFileHandle? TryOpenPidfd(Socket socket)
    {
        Span<byte> value = stackalloc byte[4];
        try
        {
            var length = socket.GetRawSocketOption(SolSocket, SoPeerPidfd, value);
            if (length != 4)
            {
                return null;
            }
        }
        catch (SocketException)
        {
            return null;
        }
        var fd = BinaryPrimitives.ReadInt32LittleEndian(value);
        return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : null;
    }
}
