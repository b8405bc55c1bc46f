using System.Collections.Concurrent;
using System.Diagnostics;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>
/// Many containers starting and stopping at once while garbage collection runs every second: every cycle works, no
/// live attachment is ever collected, and nothing is left afterwards. (Garbage collection once released attachments
/// whose setup finished while a pass was under way; the deterministic interleavings are in AttachmentCollectorTests.)
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class ConcurrencyTests(LanWorld world)
{
    private const int Loops = 16;
    private const int CyclesPerLoop = 40;
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Sixteen_containers_cycling_in_parallel_under_a_one_second_collector_never_lose_an_attachment()
    {
        using var workspace = Workspace.Create();
        workspace.CopyFrom(world.Workspace);
        var config = File.ReadAllText(workspace.ConfigPath);
        Assert.Contains("\"gc_interval_seconds\": 2,", config);
        workspace.WriteConfig(config.Replace("\"gc_interval_seconds\": 2,",
            "\"gc_interval_seconds\": 1,\n  \"limits\": { \"connections_per_user\": 64, \"concurrent_requests_per_user\": 32 },", StringComparison.Ordinal));
        workspace.RuntimeDirOf(world.Alice);
        using var server = PorterServerProcess.Start(world.Lan, workspace);
        Wait.UntilAccepting(workspace.UserSocketOf(world.Alice), TimeSpan.FromSeconds(15), "alice's socket", () => server.Log);
        var network = NetavarkJson.Network("soak", LanWorld.MacvlanHostLocal, null);

        using var callers = new Disposables();
        var containers = Enumerable.Range(0, Loops).Select(i =>
        {
            // Podman-shaped: each loop is a rootless caller with one running container that restarts again and again.
            var caller = callers.Keep(RootlessCaller.Start(world.Alice, workspace));
            return (Caller: caller, Netns: caller.CreateContainerNetns(), Exec: NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), $"soak{i}"));
        }).ToList();

        var failures = new ConcurrentQueue<string>();
        var cycles = 0;
        var clock = Stopwatch.StartNew();
        var loops = containers.Select((c, i) => Task.Factory.StartNew(() =>
        {
            for (var cycle = 0; cycle < CyclesPerLoop && clock.Elapsed < Budget; cycle++)
            {
                var failure = Cycle(c.Caller, c.Netns, c.Exec);
                if (failure is not null)
                {
                    failures.Enqueue($"loop {i} cycle {cycle}: {failure}");
                    // Leave the container clean for its next cycle, as podman's next start would find it.
                    c.Caller.Plugin("teardown", c.Netns, c.Exec);
                }
                Interlocked.Increment(ref cycles);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(loops).WaitAsync(Budget + TimeSpan.FromMinutes(1)); // bounded: TimeoutException if they hang

        Assert.True(failures.IsEmpty, $"{failures.Count} of {cycles} cycles failed:\n{string.Join('\n', failures.Take(20))}\nserver log:\n{Tail(server.Log)}");
        Assert.Equal(Loops * CyclesPerLoop, cycles);

        // A few more passes with every container stopped: still nothing to collect, nothing left anywhere.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var log = server.Log;
        Assert.DoesNotContain("released attachment", log);
        Assert.DoesNotContain("garbage collection", log);
        Assert.DoesNotContain("leftover", log);
        Assert.False(server.HasExited, Tail(log));
        var results = Path.Combine(workspace.StateDir, "cni", "results");
        Assert.Empty(Directory.Exists(results) ? Directory.GetFiles(results) : []);
        var hostLocal = Path.Combine(workspace.StateDir, "host-local", LanWorld.MacvlanHostLocal);
        Assert.DoesNotContain(Directory.Exists(hostLocal) ? Directory.GetFiles(hostLocal) : [], f => System.Net.IPAddress.TryParse(Path.GetFileName(f), out _));
        var holds = Path.Combine(workspace.StateDir, "netns");
        Assert.Empty(Directory.Exists(holds) ? Directory.GetFileSystemEntries(holds) : []);
        foreach (var (caller, netns, _) in containers)
        {
            Assert.Equal(["lo"], Observe.LinkNames(caller, netns));
        }
    }

    /// <summary>One container start and stop; null when everything was as it must be, else what was wrong.</summary>
    private static string? Cycle(RootlessCaller caller, string netns, string exec)
    {
        var setup = caller.Plugin("setup", netns, exec, TimeSpan.FromSeconds(60));
        if (setup.ExitCode != 0)
        {
            return $"setup failed: {setup}";
        }
        if (caller.InNetns(netns, "ip link show dev eth0").ExitCode != 0)
        {
            return "setup succeeded but eth0 is missing";
        }
        var teardown = caller.Plugin("teardown", netns, exec, TimeSpan.FromSeconds(60));
        if (teardown.ExitCode != 0 || teardown.Stderr.Length > 0)
        {
            return $"teardown failed or warned: {teardown}";
        }
        return caller.InNetns(netns, "ip link show dev eth0").ExitCode == 0 ? "teardown succeeded but eth0 is still there" : null;
    }

    private static string Tail(string log) => string.Join('\n', log.Split('\n').TakeLast(60));
}
