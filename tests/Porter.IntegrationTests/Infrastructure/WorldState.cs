using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests.Infrastructure;

/// <summary>
/// What abuse must not change: the server's open descriptors for sockets, pipes, namespaces and pidfds (assemblies
/// the runtime maps lazily are not counted), the links in the scratch host namespace, every host-local allocation,
/// and the attachment records. Taken before an attack and compared after it.
/// </summary>
public sealed record WorldState(int ServerFds, string HostLinks, IReadOnlyList<string> Allocations, IReadOnlyList<string> Records)
{
    public static WorldState Of(LanWorld world) => new(
        CountFds(world.Server.Pid),
        world.Lan.InHost("ip", "-o", "link").Stdout,
        Directory.Exists(Path.Combine(world.Workspace.StateDir, "host-local"))
            ? Directory.GetFiles(Path.Combine(world.Workspace.StateDir, "host-local"), "*", SearchOption.AllDirectories)
                .Where(f => System.Net.IPAddress.TryParse(Path.GetFileName(f), out _)).Order().ToList()
            : [],
        world.CachedAttachments().Order().ToList());

    /// <summary>
    /// Fails unless the world is as it was. Descriptors are allowed a moment to settle (connections still closing);
    /// after that, one more than before is a leak.
    /// </summary>
    public void AssertUnchanged(LanWorld world)
    {
        var settled = DateTime.UtcNow.AddSeconds(15);
        while (CountFds(world.Server.Pid) > ServerFds && DateTime.UtcNow < settled)
        {
            Thread.Sleep(100);
        }
        var now = Of(world);
        Assert.True(now.ServerFds <= ServerFds,
            $"the server holds {now.ServerFds} descriptors, {ServerFds} before:\n{string.Join('\n', Describe(world.Server.Pid))}");
        Assert.Equal(HostLinks, now.HostLinks);
        Assert.Equal(Allocations, now.Allocations);
        Assert.Equal(Records, now.Records);
        Assert.False(world.Server.HasExited, $"the server died:\n{world.Server.Log}");
    }

    private static readonly string[] Counted = ["socket:", "pipe:", "anon_inode:", "net:", "user:"];

    private static int CountFds(int pid) => Describe(pid).Count();

    private static IEnumerable<string> Describe(int pid) =>
        Directory.GetFiles($"/proc/{pid}/fd")
            .Select(f => (Fd: Path.GetFileName(f), Target: Target(f)))
            .Where(x => Counted.Any(prefix => x.Target.StartsWith(prefix, StringComparison.Ordinal)))
            .Select(x => $"{x.Fd} -> {x.Target}");

    private static string Target(string fd)
    {
        try
        {
            return new FileInfo(fd).LinkTarget ?? "";
        }
        catch (IOException)
        {
            return ""; // closed while we looked
        }
    }
}
