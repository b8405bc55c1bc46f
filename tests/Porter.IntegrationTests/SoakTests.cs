using System.Collections.Concurrent;
using System.Diagnostics;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>
/// A short soak (the bench runs the long one, 1000 cycles): two users' containers cycling in parallel, and afterwards
/// the server holds exactly what it held before — descriptors, mounts under its state directory — and so does the host: links, host-local
/// allocations, attachment records, holds. A leak of any of them shows here as one more after than before. Only
/// counts are asserted; speed is the bench's business.
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class SoakTests(LanWorld world)
{
    private const int LoopsPerUser = 4;
    private const int CyclesPerLoop = 13;
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(3);

    private sealed record Counts(int Fds, int Mounts, int HostLinks, int Allocations, int Records, int Holds);

    [Fact]
    public async Task A_hundred_parallel_cycles_from_two_users_leave_the_server_and_the_host_as_they_were()
    {
        using var workspace = Workspace.Create();
        workspace.CopyFrom(world.Workspace);
        var config = File.ReadAllText(workspace.ConfigPath);
        Assert.Contains("\"gc_interval_seconds\": 2,", config);
        workspace.WriteConfig(config.Replace("\"gc_interval_seconds\": 2,",
            "\"gc_interval_seconds\": 2,\n  \"limits\": { \"connections_per_user\": 64, \"concurrent_requests_per_user\": 32 },", StringComparison.Ordinal));
        workspace.RuntimeDirOf(world.Alice);
        workspace.RuntimeDirOf(world.Bob);
        using var server = PorterServerProcess.Start(world.Lan, workspace);
        Wait.UntilAccepting(workspace.UserSocketOf(world.Alice), TimeSpan.FromSeconds(15), "alice's socket", () => server.Log);
        Wait.UntilAccepting(workspace.UserSocketOf(world.Bob), TimeSpan.FromSeconds(15), "bob's socket", () => server.Log);
        var network = NetavarkJson.Network("soak", LanWorld.MacvlanHostLocal, null);

        using var callers = new Disposables();
        var loops = new[] { world.Alice, world.Bob }.SelectMany(user => Enumerable.Range(0, LoopsPerUser).Select(i =>
        {
            var caller = callers.Keep(RootlessCaller.Start(user, workspace));
            return (Caller: caller, Netns: caller.CreateContainerNetns(), Exec: NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), $"soak{i}"));
        })).ToList();

        // One cycle per loop first: whatever the server sets up once (connections' buffers, its first record
        // directory, thread pool threads) is there before the counting starts.
        var failures = new ConcurrentQueue<string>();
        await RunAsync(loops, 1, failures);
        Assert.True(failures.IsEmpty, $"warm-up failed:\n{string.Join('\n', failures)}\nserver log:\n{Tail(server.Log)}");
        var before = Settled(server, workspace, null);

        var cycles = await RunAsync(loops, CyclesPerLoop, failures);

        Assert.True(failures.IsEmpty, $"{failures.Count} of {cycles} cycles failed:\n{string.Join('\n', failures.Take(20))}\nserver log:\n{Tail(server.Log)}");
        Assert.Equal(2 * LoopsPerUser * CyclesPerLoop, cycles);
        var after = Settled(server, workspace, before);
        Assert.True(before == after, $"before {before}\nafter  {after}\nserver descriptors now:\n{string.Join('\n', Descriptors(server.Pid))}");
        Assert.Equal(0, before.Records);
        Assert.Equal(0, before.Holds);
        Assert.False(server.HasExited, Tail(server.Log));
    }

    private static async Task<int> RunAsync(List<(RootlessCaller Caller, string Netns, string Exec)> loops, int count, ConcurrentQueue<string> failures)
    {
        var cycles = 0;
        var clock = Stopwatch.StartNew();
        var tasks = loops.Select((c, i) => Task.Factory.StartNew(() =>
        {
            for (var cycle = 0; cycle < count && clock.Elapsed < Budget; cycle++)
            {
                var setup = c.Caller.Plugin("setup", c.Netns, c.Exec, TimeSpan.FromSeconds(60));
                var teardown = c.Caller.Plugin("teardown", c.Netns, c.Exec, TimeSpan.FromSeconds(60));
                if (setup.ExitCode != 0 || teardown.ExitCode != 0 || teardown.Stderr.Length > 0)
                {
                    failures.Enqueue($"loop {i} cycle {cycle}: setup {setup}; teardown {teardown}");
                }
                Interlocked.Increment(ref cycles);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(tasks).WaitAsync(Budget + TimeSpan.FromMinutes(1)); // bounded: TimeoutException if they hang
        return cycles;
    }

    /// <summary>
    /// The counts once connections that are still closing have closed: before, after a short pause; after, as soon as
    /// they equal <paramref name="target"/>, or after 15 s (a leak never settles).
    /// </summary>
    private Counts Settled(PorterServerProcess server, Workspace workspace, Counts? target)
    {
        if (target is null)
        {
            Thread.Sleep(TimeSpan.FromSeconds(2));
            return Of(server, workspace);
        }
        var deadline = DateTime.UtcNow.AddSeconds(15);
        var now = Of(server, workspace);
        while (now != target && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(200);
            now = Of(server, workspace);
        }
        return now;
    }

    private Counts Of(PorterServerProcess server, Workspace workspace)
    {
        int Files(string dir, Func<string, bool> keep) =>
            Directory.Exists(dir) ? Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Count(keep) : 0;
        var state = workspace.StateDir;
        return new Counts(
            Descriptors(server.Pid).Count,
            // Only the run's own: the server shares the machine's mount namespace, where others' mounts come and go.
            File.ReadAllLines($"/proc/{server.Pid}/mountinfo").Count(l => l.Split(' ') is [_, _, _, _, var point, ..] && point.StartsWith(workspace.Root + "/", StringComparison.Ordinal)),
            world.Lan.InHost("ip", "-o", "link").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length,
            Files(Path.Combine(state, "host-local"), f => System.Net.IPAddress.TryParse(Path.GetFileName(f), out _)),
            Files(Path.Combine(state, "cni", "results"), _ => true),
            Files(Path.Combine(state, "netns"), _ => true));
    }

    private static List<string> Descriptors(int pid) =>
        [.. Directory.GetFiles($"/proc/{pid}/fd").Select(f =>
        {
            try
            {
                return $"{Path.GetFileName(f)} -> {new FileInfo(f).LinkTarget}";
            }
            catch (IOException)
            {
                return $"{Path.GetFileName(f)} -> (closed while read)";
            }
        })];

    private static string Tail(string log) => string.Join('\n', log.Split('\n').TakeLast(60));
}
