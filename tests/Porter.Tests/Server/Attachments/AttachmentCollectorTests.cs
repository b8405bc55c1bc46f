using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Porter.Server.Attachments;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Invocation;
using Porter.Server.Cni.Runtime;
using Porter.Server.Namespaces;
using Xunit;

namespace Porter.Tests.Server.Attachments;

/// <summary>
/// Garbage collection racing setups and teardowns, with the interleavings driven step by step: a pass is held inside
/// the release of one attachment (its DEL waits for a go) while the test finishes a setup, or replaces a record,
/// behind the pass's back. The collector, runtime, cache and locks are the server's own; a small script stands in
/// for the CNI plugin so that each ADD and DEL can be held and is recorded.
/// </summary>
public sealed class AttachmentCollectorTests : IDisposable
{
    private const string Network = "gc";
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(20);

    private readonly TempDir _dir = new();
    private readonly string _plugins;
    private readonly CniRuntime _runtime;
    private readonly CniRuntimeOptions _options;
    private readonly KeyedLocks _locks = new();
    private readonly LeaseStates _leases = new();
    private readonly ManualClock _clock = new();
    private readonly CollectingLogger _log = new();
    private readonly AttachmentCollector _collector;
    private readonly NetworkConfigList _list;
    private readonly Process _container;

    public AttachmentCollectorTests()
    {
        _plugins = Directory.CreateDirectory(Path.Combine(_dir.Path, "plugins")).FullName;
        var state = Directory.CreateDirectory(Path.Combine(_dir.Path, "state")).FullName;
        var gate = Path.Combine(_plugins, "gate");
        File.WriteAllText(gate, $$"""
            #!/bin/sh
            # CNI plugin stand-in: records each ADD/DEL; holds one while a .wait file for it exists, until its .go file appears.
            cat >/dev/null
            if [ "$CNI_COMMAND" = VERSION ]; then echo '{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}'; exit 0; fi
            echo "$CNI_COMMAND $CNI_CONTAINERID" >> {{_plugins}}/calls
            step={{_plugins}}/$CNI_COMMAND-$CNI_CONTAINERID
            if [ -e "$step.wait" ]; then
              touch "$step.started"
              while [ ! -e "$step.go" ]; do sleep 0.01; done
              rm -f "$step.wait" "$step.go"
            fi
            if [ "$CNI_COMMAND" = ADD ]; then echo '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],"ips":[{"address":"192.0.2.7/24","interface":0}]}'; fi
            exit 0
            """.ReplaceLineEndings("\n"));
        File.SetUnixFileMode(gate, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var executor = new PluginExecutor(NullLogger<PluginExecutor>.Instance);
        _runtime = new CniRuntime(executor, new VersionNegotiator(executor), new AttachmentStore(Path.Combine(state, "cni")), [], NullLogger<CniRuntime>.Instance);
        _options = new CniRuntimeOptions(_plugins, TimeSpan.FromSeconds(30), false);
        var holds = new NetnsHolds(state);
        var releaser = new AttachmentReleaser(_runtime, new HostBridges(state, _locks), holds, _leases, NullLogger<AttachmentReleaser>.Instance);
        _collector = new AttachmentCollector(_runtime, releaser, _locks, [], holds, () => _options, _clock, _log);
        _list = NetworkConfigLoader.ParseList(Encoding.UTF8.GetBytes($$"""
            {"cniVersion":"1.0.0","name":"{{Network}}","plugins":[{"type":"gate"}]}
            """), Path.Combine(_dir.Path, "gc.conflist"), null, null);
        // A "running container": a process of its own, whose network namespace therefore is in use.
        _container = Process.Start(new ProcessStartInfo("sleep", "300") { UseShellExecute = false })!;
    }

    public void Dispose()
    {
        _container.Kill();
        _container.WaitForExit();
        _container.Dispose();
        _dir.Dispose();
    }

    private ulong LiveInode
    {
        get
        {
            var target = new FileInfo($"/proc/{_container.Id}/ns/net").LinkTarget!; // "net:[4026531840]"
            return ulong.Parse(target[5..^1], CultureInfo.InvariantCulture);
        }
    }

    /// <summary>No process is in a namespace with this inode (namespace inodes are far below it).</summary>
    private const ulong DeadInode = ulong.MaxValue - 7;

    private static string Id(string name) => $"1000-{name}";

    private static RecordId RecordOf(string name) => new(Network, Id(name), "eth0");

    private string RecordPath(string name) => _runtime.Attachments.PathFor(RecordOf(name));

    private static AttachmentFacts Facts(ulong inode, string? bootId = null, DateTimeOffset? created = null) => new()
    {
        Uid = 1000,
        User = "tester",
        Resource = Network,
        NetnsInode = inode,
        BootId = bootId ?? NetnsLiveness.BootId,
        Created = created ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
    };

    private void WriteRecord(string name, AttachmentFacts facts, bool complete = true) => _runtime.Attachments.Write(new AttachmentRecord
    {
        Id = RecordOf(name),
        Config = _list.Bytes,
        NetNs = "",
        CniArgs = [],
        CapabilityArgs = System.Collections.Immutable.ImmutableDictionary<string, JsonNode>.Empty,
        Result = complete ? JsonNode.Parse("""{"cniVersion":"1.0.0","ips":[{"address":"192.0.2.7/24"}]}""")!.AsObject() : null,
        Complete = complete,
        Facts = facts,
    });

    /// <summary>From now on the plugin's next <paramref name="command"/> for this attachment waits for <see cref="Go"/>.</summary>
    private void Hold(string command, string name) => File.WriteAllText(Path.Combine(_plugins, $"{command}-{Id(name)}.wait"), "");

    private void Go(string command, string name) => File.WriteAllText(Path.Combine(_plugins, $"{command}-{Id(name)}.go"), "");

    private void WaitStarted(string command, string name)
    {
        var started = Path.Combine(_plugins, $"{command}-{Id(name)}.started");
        var deadline = DateTime.UtcNow + StepTimeout;
        while (!File.Exists(started))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{command} of {name} did not start");
            Thread.Sleep(10);
        }
        File.Delete(started);
    }

    private IReadOnlyList<string> Calls() =>
        File.Exists(Path.Combine(_plugins, "calls")) ? File.ReadAllLines(Path.Combine(_plugins, "calls")) : [];

    /// <summary>A setup as the attachment service runs it: under the key lock, the record written before and after the plugin.</summary>
    private async Task SetupAsync(string name, ulong inode)
    {
        using var keyLock = await _locks.AcquireAsync(AttachmentKey.LockKeyFor(RecordOf(name)), CancellationToken.None);
        await _runtime.AddNetworkListAsync(_list, new RuntimeConf { ContainerId = Id(name), NetNs = "", IfName = "eth0" },
            Facts(inode, created: DateTimeOffset.UtcNow), _options, CancellationToken.None);
    }

    private static async Task<T> Within<T>(Task<T> task) =>
        await task.WaitAsync(StepTimeout);

    private static async Task Within(Task task) =>
        await task.WaitAsync(StepTimeout);

    [Fact]
    public async Task A_setup_listed_while_in_progress_and_finished_before_its_turn_is_not_released()
    {
        // "a" sorts first and is released (it is from another boot); its DEL is held, which holds the pass.
        WriteRecord("a", Facts(DeadInode, bootId: "00000000-0000-0000-0000-000000000000"));
        Hold("DEL", "a");
        // "b" is being set up: its record exists, incomplete, while its ADD is held.
        Hold("ADD", "b");
        var setup = Task.Run(() => SetupAsync("b", LiveInode));
        WaitStarted("ADD", "b");

        var pass = Task.Run(() => _collector.CollectAsync(CancellationToken.None));
        WaitStarted("DEL", "a"); // the pass has listed both records and is inside a's release

        Go("ADD", "b");
        await Within(setup); // b's setup completes and lets go of its lock before the pass reaches b
        Go("DEL", "a");
        var released = await Within(pass);

        Assert.Equal(1, released);
        Assert.False(File.Exists(RecordPath("a")));
        Assert.DoesNotContain($"DEL {Id("b")}", Calls());
        var b = _runtime.Attachments.Read(RecordOf("b"));
        Assert.NotNull(b);
        Assert.True(b!.Complete);
        Assert.DoesNotContain(_log.Lines, l => l.Contains(Id("b"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_released_attachment_leaves_nothing_of_its_lease_state_behind()
    {
        WriteRecord("a", Facts(DeadInode, bootId: "00000000-0000-0000-0000-000000000000"));
        _leases.Acquired(RecordOf("a").Name, "192.0.2.7/24", again: false);

        Assert.Equal(1, await Within(_collector.CollectAsync(CancellationToken.None)));

        Assert.StartsWith("unknown", _leases.Describe(RecordOf("a").Name), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_record_replaced_by_a_new_start_since_the_listing_is_judged_as_it_is_now()
    {
        WriteRecord("a", Facts(DeadInode, bootId: "00000000-0000-0000-0000-000000000000"));
        // b's first container died: its namespace has had no process for longer than the grace.
        WriteRecord("b", Facts(DeadInode, created: new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        Assert.Equal(1, await Within(_collector.CollectAsync(CancellationToken.None))); // a released; b seen unused once
        WriteRecord("a", Facts(DeadInode, bootId: "00000000-0000-0000-0000-000000000000"));
        _clock.Advance(AttachmentCollector.UnusedGrace + TimeSpan.FromSeconds(1));

        Hold("DEL", "a");
        var pass = Task.Run(() => _collector.CollectAsync(CancellationToken.None));
        WaitStarted("DEL", "a");
        // Meanwhile the container is torn down and started again in a new, running namespace (same key).
        using (await _locks.AcquireAsync(AttachmentKey.LockKeyFor(RecordOf("b")), CancellationToken.None))
        {
            _runtime.Attachments.Delete(RecordOf("b"));
        }
        await Within(SetupAsync("b", LiveInode));
        Go("DEL", "a");

        Assert.Equal(1, await Within(pass));
        Assert.DoesNotContain($"DEL {Id("b")}", Calls());
        Assert.True(_runtime.Attachments.Read(RecordOf("b"))!.Complete);
    }

    [Fact]
    public async Task A_record_torn_down_since_the_listing_is_skipped_and_the_pass_goes_on()
    {
        WriteRecord("a", Facts(DeadInode, bootId: "00000000-0000-0000-0000-000000000000"));
        WriteRecord("b", Facts(LiveInode));
        WriteRecord("c", Facts(DeadInode, bootId: "00000000-0000-0000-0000-000000000000"));
        Hold("DEL", "a");
        var pass = Task.Run(() => _collector.CollectAsync(CancellationToken.None));
        WaitStarted("DEL", "a");
        using (await _locks.AcquireAsync(AttachmentKey.LockKeyFor(RecordOf("b")), CancellationToken.None))
        {
            _runtime.Attachments.Delete(RecordOf("b"));
        }
        Go("DEL", "a");

        Assert.Equal(2, await Within(pass));
        Assert.Empty(_runtime.Attachments.List().Records);
        Assert.Equal([$"DEL {Id("a")}", $"DEL {Id("c")}"], Calls());
    }

    [Fact]
    public async Task A_setup_that_never_finished_in_a_namespace_still_in_use_keeps_its_address_until_the_namespace_is_gone()
    {
        // An earlier server died mid-setup and its hold is gone: the server cannot enter the namespace, which a
        // process still uses. A DEL without it would free the address while the interface may carry it.
        var inode = LiveInode;
        WriteRecord("b", Facts(inode), complete: false);

        for (var pass = 0; pass < 3; pass++)
        {
            Assert.Equal(0, await Within(_collector.CollectAsync(CancellationToken.None)));
            _clock.Advance(AttachmentCollector.UnusedGrace);
        }
        Assert.Empty(Calls());
        Assert.NotNull(_runtime.Attachments.Read(RecordOf("b")));
        Assert.Single(_log.Lines, l => l.Contains("its setup never finished, but its network namespace is still in use", StringComparison.Ordinal));

        // The namespace's last process exits: after the grace the attachment is released.
        WriteRecord("b", Facts(DeadInode), complete: false);
        Assert.Equal(0, await Within(_collector.CollectAsync(CancellationToken.None)));
        _clock.Advance(AttachmentCollector.UnusedGrace);
        Assert.Equal(1, await Within(_collector.CollectAsync(CancellationToken.None)));
        Assert.Equal([$"DEL {Id("b")}"], Calls());
        Assert.Contains(_log.Lines, l => l.Contains("its setup never finished and no process is left in its network namespace", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_dead_namespace_is_released_only_after_it_was_seen_unused_for_the_grace_period()
    {
        WriteRecord("b", Facts(DeadInode));

        Assert.Equal(0, await Within(_collector.CollectAsync(CancellationToken.None)));
        _clock.Advance(AttachmentCollector.UnusedGrace - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await Within(_collector.CollectAsync(CancellationToken.None)));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await Within(_collector.CollectAsync(CancellationToken.None)));
        Assert.Equal([$"DEL {Id("b")}"], Calls());
    }

    [Fact]
    public async Task A_running_container_is_never_released()
    {
        WriteRecord("b", Facts(LiveInode));

        for (var pass = 0; pass < 4; pass++)
        {
            Assert.Equal(0, await Within(_collector.CollectAsync(CancellationToken.None)));
            _clock.Advance(AttachmentCollector.UnusedGrace);
        }
        Assert.Empty(Calls());
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public void Advance(TimeSpan by) => _now += by;

        public override DateTimeOffset GetUtcNow() => _now;
    }

    private sealed class CollectingLogger : ILogger<AttachmentCollector>
    {
        private readonly List<string> _lines = [];

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
            {
                _lines.Add(formatter(state, exception));
            }
        }
    }
}
