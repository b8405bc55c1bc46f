using System.Net.Sockets;
using System.Text;

namespace Porter.Server.Hosting;

/// <summary>sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET ('@' = abstract namespace).</summary>
public static class SystemdNotify
{
    public static bool Send(string state)
    {
        var target = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(target))
        {
            return false;
        }
        if (target[0] == '@')
        {
            target = "\0" + target[1..];
        }
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(target));
            socket.Send(Encoding.UTF8.GetBytes(state));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
