using Porter.Server.Namespaces;
using Porter.Server.Native;
using Xunit;

namespace Porter.Tests.Server.Namespaces;

/// <summary>
/// What a server does at start with the holds systemd's descriptor store hands back, where no mount is needed: those
/// whose attachment is gone, or that name another namespace, or are no namespace at all, are dropped from the store.
/// (Mounting the others again takes root; the package tests do that under a real systemd.)
/// </summary>
public sealed class NetnsHoldsRestoreTests : IDisposable
{
    private readonly TempDir _state = new();
    private readonly RecordingStore _store = new();

    [Fact]
    public void A_hold_whose_attachment_is_gone_is_dropped_from_the_store_and_its_descriptor_closed()
    {
        var holds = new NetnsHolds(_state.Path, _store);
        var fd = OpenOwnNetns();

        var report = holds.Restore([(fd, NetnsHolds.StoreName("net-1000-gone-eth0"))], new Dictionary<string, ulong?> { ["net-1000-other-eth0"] = null });

        Assert.Equal(["hold-net-1000-gone-eth0"], report.Dropped);
        Assert.Empty(report.Restored);
        Assert.Empty(report.Failed);
        Assert.Equal(["hold-net-1000-gone-eth0"], _store.Forgotten);
        Assert.False(File.Exists($"/proc/self/fd/{fd}") && new FileInfo($"/proc/self/fd/{fd}").LinkTarget?.StartsWith("net:", StringComparison.Ordinal) == true,
            "the descriptor was not closed");
    }

    [Fact]
    public void A_hold_of_another_namespace_than_its_attachment_recorded_is_dropped()
    {
        var holds = new NetnsHolds(_state.Path, _store);
        var fd = OpenOwnNetns();

        var report = holds.Restore([(fd, NetnsHolds.StoreName("net-1000-c-eth0"))], new Dictionary<string, ulong?> { ["net-1000-c-eth0"] = 1 });

        Assert.Equal(["hold-net-1000-c-eth0"], report.Dropped);
        Assert.Equal(["hold-net-1000-c-eth0"], _store.Forgotten);
    }

    [Fact]
    public void A_stored_descriptor_that_is_not_a_network_namespace_is_dropped()
    {
        var holds = new NetnsHolds(_state.Path, _store);
        var file = _state.Write("plain", "not a namespace");
        var fd = Libc.Open(file, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        Assert.True(fd >= 0);

        var report = holds.Restore([(fd, NetnsHolds.StoreName("net-1000-c-eth0"))], new Dictionary<string, ulong?> { ["net-1000-c-eth0"] = null });

        Assert.Equal(["hold-net-1000-c-eth0"], report.Dropped);
    }

    [Fact]
    public void Releasing_a_hold_drops_it_from_the_store_by_name_and_nothing_else_does()
    {
        var holds = new NetnsHolds(_state.Path, _store);

        holds.Release(holds.PathFor("net-1000-c-eth0"));
        holds.Release(Path.Combine(_state.Path, "elsewhere", "net-1000-d-eth0"));
        holds.Release("");

        Assert.Equal(["hold-net-1000-c-eth0"], _store.Forgotten);
    }

    public void Dispose() => _state.Dispose();

    private static int OpenOwnNetns()
    {
        var fd = Libc.Open("/proc/self/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        Assert.True(fd >= 0, $"cannot open /proc/self/ns/net: {Libc.ErrorText(Libc.LastErrno)}");
        return fd;
    }

    private sealed class RecordingStore : IHoldStore
    {
        public List<string> Forgotten { get; } = [];

        public bool Keep(string name, int fd) => true;

        public void Forget(string name) => Forgotten.Add(name);
    }
}
