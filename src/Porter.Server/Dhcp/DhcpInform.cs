using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Porter.Server.Native;
using Porter.Server.Net;

namespace Porter.Server.Dhcp;

/// <summary>What a DHCP server says about name resolution on its LAN (options 6, 15, 119).</summary>
public sealed record DhcpDnsInfo(IReadOnlyList<string> Servers, IReadOnlyList<string> SearchDomains);

/// <summary>
/// Asks the LAN's DHCP server for its DNS settings with a DHCPINFORM (RFC 2131 3.4) sent from inside the container's
/// namespace, from the address it was just leased. The CNI dhcp plugin reports address, gateway and routes but drops
/// DNS; netavark's own DHCP support reports it, and podman puts it into the container's resolv.conf.
/// </summary>
public static class DhcpInform
{
    private const int ServerPort = 67;
    private const int ClientPort = 68;
    private const int SoBindToDevice = 25;

    public static async Task<DhcpDnsInfo?> QueryAsync(SafeFileHandle netns, string ifName, IPAddress address, byte[] mac, string clientId, TimeSpan timeout)
    {
        using var socket = OpenIn(netns, ifName);
        var xid = (uint)Random.Shared.Next();
        var request = BuildInform(xid, address, mac, clientId);
        using var deadline = new CancellationTokenSource(timeout);
        var buffer = new byte[1500];
        try
        {
            await socket.SendToAsync(request, new IPEndPoint(IPAddress.Broadcast, ServerPort), deadline.Token).ConfigureAwait(false);
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, deadline.Token).ConfigureAwait(false);
                if (TryParseAck(buffer.AsSpan(0, received), xid, out var info))
                {
                    return info;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>A UDP socket on port 68 of the container's interface: created by a thread that entered the namespace.</summary>
    private static Socket OpenIn(SafeFileHandle netns, string ifName)
    {
        Socket? socket = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                if (Libc.Setns((int)netns.DangerousGetHandle(), Libc.CLONE_NEWNET) != 0)
                {
                    throw new IOException($"setns: {Libc.ErrorText(Libc.LastErrno)}");
                }
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { EnableBroadcast = true };
                socket.SetRawSocketOption(1, SoBindToDevice, Encoding.ASCII.GetBytes(ifName + "\0"));
                socket.Bind(new IPEndPoint(IPAddress.Any, ClientPort));
            }
            catch (Exception e)
            {
                socket?.Dispose();
                socket = null;
                error = e;
            }
        })
        {
            IsBackground = true,
            Name = "dhcp-inform",
        };
        // The thread exits after this: nothing else ever runs in the container's namespace.
        thread.Start();
        thread.Join();
        return socket ?? throw new IOException($"cannot open a DHCP socket in the container: {error?.Message}", error);
    }

    public static byte[] BuildInform(uint xid, IPAddress address, byte[] mac, string clientId)
    {
        var packet = new List<byte>(300);
        packet.AddRange([1, 1, 6, 0]); // BOOTREQUEST, Ethernet, 6-byte MAC, 0 hops
        var word = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, xid);
        packet.AddRange(word);
        packet.AddRange(new byte[4]); // secs, flags
        packet.AddRange(address.GetAddressBytes()); // ciaddr: the leased address
        packet.AddRange(new byte[12]); // yiaddr, siaddr, giaddr
        var chaddr = new byte[16];
        mac.AsSpan(0, Math.Min(6, mac.Length)).CopyTo(chaddr);
        packet.AddRange(chaddr);
        packet.AddRange(new byte[64 + 128]); // sname, file
        packet.AddRange([99, 130, 83, 99]); // magic cookie
        packet.AddRange([53, 1, 8]); // DHCPINFORM
        var id = Encoding.ASCII.GetBytes(clientId);
        var idLength = Math.Min(id.Length, 254);
        packet.AddRange([61, (byte)(idLength + 1), 0]); // client identifier, type 0, as the CNI dhcp daemon sends it
        packet.AddRange(id.AsSpan(0, idLength).ToArray());
        packet.AddRange([55, 3, 6, 15, 119]); // ask for DNS servers, domain name, domain search
        packet.Add(255);
        while (packet.Count < 300)
        {
            packet.Add(0);
        }
        return [.. packet];
    }

    public static bool TryParseAck(ReadOnlySpan<byte> packet, uint xid, out DhcpDnsInfo info)
    {
        info = new DhcpDnsInfo([], []);
        if (packet.Length < 240 || packet[0] != 2 || BinaryPrimitives.ReadUInt32BigEndian(packet[4..]) != xid ||
            !packet.Slice(236, 4).SequenceEqual((ReadOnlySpan<byte>)[99, 130, 83, 99]))
        {
            return false;
        }
        var servers = new List<string>();
        var search = new List<string>();
        string? domain = null;
        var isAck = false;
        for (var i = 240; i < packet.Length;)
        {
            var code = packet[i];
            if (code == 255)
            {
                break;
            }
            if (code == 0)
            {
                i++;
                continue;
            }
            if (i + 1 >= packet.Length || i + 2 + packet[i + 1] > packet.Length)
            {
                return false;
            }
            var data = packet.Slice(i + 2, packet[i + 1]);
            switch (code)
            {
                case 53:
                    isAck = data.Length == 1 && data[0] == 5;
                    break;
                case 6:
                    for (var j = 0; j + 4 <= data.Length; j += 4)
                    {
                        servers.Add(new IPAddress(data.Slice(j, 4)).ToString());
                    }
                    break;
                case 15:
                    domain = Encoding.ASCII.GetString(data).TrimEnd('\0');
                    domain = DnsNames.IsValid(domain) ? domain : null;
                    break;
                case 119:
                    search.AddRange(DecodeSearchList(data));
                    break;
            }
            i += 2 + data.Length;
        }
        if (!isAck)
        {
            return false;
        }
        if (domain is { Length: > 0 } && !search.Contains(domain))
        {
            search.Insert(0, domain);
        }
        info = new DhcpDnsInfo(servers, search);
        return true;
    }

    /// <summary>RFC 3397: DNS names in wire format, with compression pointers into the option itself.</summary>
    public static IReadOnlyList<string> DecodeSearchList(ReadOnlySpan<byte> data)
    {
        var names = new List<string>();
        var position = 0;
        while (position < data.Length)
        {
            var labels = new List<string>();
            var cursor = position;
            var jumped = false;
            var hops = 0;
            while (cursor < data.Length)
            {
                var length = data[cursor];
                if (length == 0)
                {
                    cursor++;
                    break;
                }
                if ((length & 0xC0) == 0xC0)
                {
                    if (cursor + 1 >= data.Length || ++hops > 16)
                    {
                        return names;
                    }
                    var target = ((length & 0x3F) << 8) | data[cursor + 1];
                    if (!jumped)
                    {
                        position = cursor + 2;
                        jumped = true;
                    }
                    cursor = target;
                    continue;
                }
                if (cursor + 1 + length > data.Length)
                {
                    return names;
                }
                labels.Add(Encoding.ASCII.GetString(data.Slice(cursor + 1, length)));
                cursor += 1 + length;
            }
            if (!jumped)
            {
                position = cursor;
            }
            var name = string.Join('.', labels);
            if (labels.Count > 0 && DnsNames.IsValid(name))
            {
                names.Add(name);
            }
        }
        return names;
    }
}
