using System.Net.Sockets;
using System.Text;

namespace Porter.Server.Native;

/// <summary>
/// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET ('@' = the abstract namespace), with file
/// descriptors as SCM_RIGHTS where the message stores them (FDSTORE=1). Microsoft.Extensions.Hosting.Systemd sends
/// READY=1 and STOPPING=1 itself; it has no way to attach descriptors, which the file descriptor store needs.
/// </summary>
internal static unsafe class SdNotify
{
    /// <summary>Sends one notification; false when it could not be delivered (no such socket, refused).</summary>
    public static bool Send(string notifySocket, string state, ReadOnlySpan<int> fds = default)
    {
        if (notifySocket.Length == 0 || (notifySocket[0] != '/' && notifySocket[0] != '@'))
        {
            return false; // sd_notify accepts only paths and abstract names
        }
        var target = notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(target));
            if (fds.IsEmpty)
            {
                return socket.Send(Encoding.UTF8.GetBytes(state)) > 0;
            }
            return SendWithFds((int)socket.Handle, Encoding.UTF8.GetBytes(state), fds);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>sendmsg with one SCM_RIGHTS control message (struct cmsghdr: size_t len, int level, int type, then the fds, 8-aligned).</summary>
    private static bool SendWithFds(int socket, byte[] payload, ReadOnlySpan<int> fds)
    {
        const int headerSize = 16; // CMSG_LEN(0) on LP64
        var dataSize = fds.Length * sizeof(int);
        var space = headerSize + ((dataSize + 7) & ~7); // CMSG_SPACE
        var control = stackalloc byte[space];
        new Span<byte>(control, space).Clear();
        *(nuint*)control = (nuint)(headerSize + dataSize); // CMSG_LEN
        *(int*)(control + 8) = Libc.SOL_SOCKET;
        *(int*)(control + 12) = Libc.SCM_RIGHTS;
        fds.CopyTo(new Span<int>(control + headerSize, fds.Length));
        fixed (byte* data = payload)
        {
            var iov = new Libc.IoVec { Base = data, Length = (nuint)payload.Length };
            var message = new Libc.MsgHdr
            {
                Iov = &iov,
                IovLength = 1,
                Control = control,
                ControlLength = (nuint)space,
            };
            nint sent;
            do
            {
                sent = Libc.Sendmsg(socket, &message, Libc.MSG_NOSIGNAL);
            }
            while (sent < 0 && Libc.LastErrno == Libc.EINTR);
            return sent == payload.Length;
        }
    }
}
