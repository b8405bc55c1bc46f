using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Porter.Server.Hosting;
using Porter.Server.Namespaces;
using Xunit;

namespace Porter.Tests.Server.Hosting;

/// <summary>The notifications and the descriptor store, received on a datagram socket as systemd receives them.</summary>
public sealed unsafe partial class SystemdServiceTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Socket _manager = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly string _path;

    public SystemdServiceTests()
    {
        _path = Path.Combine(_dir.Path, "notify");
        _manager.Bind(new UnixDomainSocketEndPoint(_path));
        _manager.ReceiveTimeout = 5000;
    }

    [Fact]
    public void A_reload_says_RELOADING_with_the_monotonic_clock_and_ends_with_READY_and_a_status()
    {
        var service = new SystemdService(_path);
        var before = MonotonicMicroseconds();

        service.Reloading();
        service.Reloaded("listening on /run/net-porter.sock;\nconfiguration reloaded: 2 resources");

        var (reloading, _) = Receive();
        var lines = reloading.Split('\n');
        Assert.Equal("RELOADING=1", lines[0]);
        Assert.StartsWith("MONOTONIC_USEC=", lines[1]);
        var usec = ulong.Parse(lines[1]["MONOTONIC_USEC=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(usec, before, MonotonicMicroseconds());
        Assert.Equal(("READY=1\nSTATUS=listening on /run/net-porter.sock; configuration reloaded: 2 resources", -1), Receive());
    }

    [Fact]
    public void A_hold_is_stored_with_its_descriptor_and_name_and_removed_by_name()
    {
        var service = new SystemdService(_path);
        var file = _dir.Write("namespace", "x");
        using var handle = File.OpenHandle(file);

        Assert.True(service.Keep("hold-net-1000-abc-eth0", (int)handle.DangerousGetHandle()));
        service.Forget("hold-net-1000-abc-eth0");

        var (stored, fd) = Receive();
        Assert.Equal("FDSTORE=1\nFDNAME=hold-net-1000-abc-eth0\nFDPOLL=0", stored);
        Assert.True(fd >= 0, "no descriptor came with FDSTORE=1");
        try
        {
            Assert.Equal(Inode(file), Inode($"/proc/self/fd/{fd}"));
        }
        finally
        {
            Close(fd);
        }
        Assert.Equal(("FDSTOREREMOVE=1\nFDNAME=hold-net-1000-abc-eth0", -1), Receive());
    }

    [Fact]
    public void Without_a_service_manager_nothing_is_sent_and_nothing_is_stored()
    {
        var service = new SystemdService(null);
        using var handle = File.OpenHandle(_dir.Write("namespace", "x"));

        Assert.False(service.IsEnabled);
        Assert.False(service.Keep("hold-x", (int)handle.DangerousGetHandle()));
        service.Reloading();
        _manager.ReceiveTimeout = 200;
        Assert.Throws<SocketException>(() => _manager.Receive(new byte[64]));
    }

    [Theory]
    [InlineData("macvlan-1000-abc-eth0", "hold-macvlan-1000-abc-eth0")]
    [InlineData("net-0-ns-4026532-eth0:1", "hold-net-0-ns-4026532-eth0%3A1")]
    [InlineData("n-1000-c-100%", "hold-n-1000-c-100%25")]
    [InlineData("n-1000-c-ä b", "hold-n-1000-c-%C3%A4%20b")]
    public void Hold_names_keep_to_what_FDNAME_allows(string key, string name)
    {
        Assert.Equal(name, NetnsHolds.StoreName(key));
    }

    [Fact]
    public void Hold_names_longer_than_FDNAME_allows_are_hashed()
    {
        var name = NetnsHolds.StoreName(new string('a', 300));
        Assert.Equal(5 + 64, name.Length);
        Assert.StartsWith("hold-", name);
        Assert.NotEqual(name, NetnsHolds.StoreName(new string('a', 299)));
    }

    public void Dispose()
    {
        _manager.Dispose();
        _dir.Dispose();
    }

    /// <summary>One datagram, and the descriptor it carried (-1 for none), read with recvmsg as systemd does.</summary>
    private (string Text, int Fd) Receive()
    {
        var buffer = new byte[4096];
        var control = stackalloc byte[64];
        fixed (byte* data = buffer)
        {
            var iov = new IoVec { Base = data, Length = (nuint)buffer.Length };
            var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = 64 };
            var poll = new PollFd { Fd = (int)_manager.Handle, Events = 1 };
            Assert.True(Poll(&poll, 1, 5000) == 1, "no notification arrived");
            var length = Recvmsg((int)_manager.Handle, &message, 0);
            Assert.True(length >= 0, $"recvmsg failed: {Marshal.GetLastPInvokeError()}");
            var fd = -1;
            if (message.ControlLength >= 20 && *(int*)(control + 8) == 1 && *(int*)(control + 12) == 1)
            {
                fd = *(int*)(control + 16);
            }
            return (Encoding.UTF8.GetString(buffer, 0, (int)length), fd);
        }
    }

    private static ulong Inode(string path)
    {
        Assert.Equal(0, Stat(path, out var st));
        return st.Ino;
    }

    private static ulong MonotonicMicroseconds()
    {
        Timespec t;
        ClockGettime(1, &t);
        return (ulong)t.Sec * 1_000_000UL + (ulong)t.Nsec / 1000UL;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Sec;
        public long Nsec;
    }

    /// <summary>struct stat on x86_64 and aarch64 differ; only st_ino (second word) is read, which both put at offset 8.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    private struct StatBuffer
    {
        public ulong Dev;
        public ulong Ino;
    }

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint Recvmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(PollFd* fds, nuint count, int timeout);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGettime(int clock, Timespec* time);

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Stat(string path, out StatBuffer buffer);
}
