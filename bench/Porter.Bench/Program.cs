using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Porter.Testbed;

// Latency and memory of the published binaries, measured the way they are used: the AOT plugin run as netavark runs
// it, from an unprivileged user's rootless-style namespaces, against the server in a scratch host namespace. With
// --baseline OUT (an out/ directory of another build, e.g. `just bench-compare REV`), the same measurements run for
// both builds in one run, interleaved round by round, side by side with their ratio. Prints a Markdown report
// (bench/README.md explains it and keeps the latest numbers).

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

if (!Environment.IsPrivilegedProcess)
{
    Console.Error.WriteLine("the benchmark must run as root: it creates namespaces, a user and network links");
    return 1;
}
var iterations = args.Length > 0 && int.TryParse(args[0], CultureInfo.InvariantCulture, out var n) ? n : 50;
var baselineDir = args.SkipWhile(a => a != "--baseline").Skip(1).FirstOrDefault();
var report = new StringBuilder();
using var made = new Disposables();
T Keep<T>(T item) where T : IDisposable => made.Keep(item);

try
{
    var lan = Keep(ScratchLan.Create());
    var group = Keep(TestGroup.Create("bench"));
    // Four users: the first makes every single-caller measurement; all four load the server in the concurrency runs.
    var users = Enumerable.Range(0, 4).Select(_ => Keep(TestUser.Create("bench", group))).ToList();
    var stacks = new List<Stack> { Stack.Start("now", null, null, lan, group, users, made) };
    if (baselineDir is not null)
    {
        var plugin = Path.Combine(baselineDir, "net-porter");
        var server = Path.Combine(baselineDir, "server", "net-porter-server");
        if (!File.Exists(plugin) || !File.Exists(server))
        {
            throw new InvalidOperationException($"--baseline {baselineDir} must hold net-porter and server/net-porter-server (as `just publish` leaves out/)");
        }
        stacks.Insert(0, Stack.Start("baseline", plugin, server, lan, group, users, made));
    }
    Keep(DnsmasqServer.Start(lan, stacks[^1].Workspace.Root));

    report.AppendLine($"net-porter benchmark, {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} CPUs, kernel {Environment.OSVersion.Version}, {iterations} iterations" +
        (baselineDir is null ? "" : $"; baseline {baselineDir}, interleaved")).AppendLine();
    var rows = new List<(string What, Dictionary<string, double[]> Samples)>();

    // Each measurement runs in rounds that alternate between the builds, so that both see the same machine.
    Dictionary<string, JsonObject[]> Interleaved(Func<Stack, int, JsonObject> drive, int count)
    {
        var rounds = Math.Max(1, Math.Min(count, 5));
        var results = stacks.ToDictionary(s => s.Label, _ => new List<JsonObject>());
        for (var r = 0; r < rounds; r++)
        {
            foreach (var stack in stacks)
            {
                results[stack.Label].Add(drive(stack, Math.Max(1, count / rounds)));
            }
        }
        return results.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
    }
    void Record(string what, Dictionary<string, JsonObject[]> results, string verb) =>
        rows.Add((what, results.ToDictionary(kv => kv.Key, kv => kv.Value.SelectMany(o => Ms(o, verb)).ToArray())));

    // 1. Start-up of the plugin binary alone (no server involved): the cost netavark pays on every container start.
    var info = Interleaved((s, count) => s.Drive("info", null, "", count), iterations * 2);
    Record("`net-porter info` (Native AOT start-up, no server)", info, "info");

    // 2. A full call: plugin start + connect + gRPC Create (ACL, version negotiation cached) + answer.
    var network = NetavarkJson.Network("lan", "lan", null);
    var create = Interleaved((s, count) => s.Drive("create", null, network.ToJsonString(), count), iterations);
    Record("`net-porter create` round trip", create, "create");

    // 3. Setup and teardown of a macvlan with host-local IPAM, end to end, each round next to the floor: root running
    //    the same plugins with the same configuration directly (bench/floor.py), in a namespace of its own.
    var floor = Floor.Create(lan, made);
    var floorSamples = new List<JsonObject>();
    var netavarkSamples = new List<JsonObject>();
    var cycle = Interleaved((s, count) =>
    {
        if (s == stacks[0])
        {
            floorSamples.Add(floor.Drive(count));
            netavarkSamples.Add(floor.DriveNetavark(count));
        }
        return s.Drive("cycle", s.Netns, NetavarkJson.Exec(network, s.ContainerId, "bench"), count);
    }, iterations);
    Record("`net-porter setup` macvlan + host-local", cycle, "setup");
    Record("`net-porter teardown` macvlan + host-local", cycle, "teardown");
    var floorAdd = floorSamples.SelectMany(o => Ms(o, "setup")).Order().ToArray();
    var floorDel = floorSamples.SelectMany(o => Ms(o, "teardown")).Order().ToArray();
    var netavarkSetup = netavarkSamples.SelectMany(o => Ms(o, "setup")).Order().ToArray();
    var netavarkTeardown = netavarkSamples.SelectMany(o => Ms(o, "teardown")).Order().ToArray();

    // 4. The same with DHCP from dnsmasq on the scratch LAN (lease, DHCPINFORM for DNS; release on teardown).
    var dhcpNetwork = NetavarkJson.Network("lan-dhcp", "lan-dhcp", null);
    var dhcp = Interleaved((s, count) => s.Drive("cycle", s.DhcpNetns, NetavarkJson.Exec(dhcpNetwork, s.ContainerId, "bench-dhcp"), count),
        Math.Max(5, iterations / 5));
    Record("`net-porter setup` macvlan + DHCP", dhcp, "setup");
    Record("`net-porter teardown` macvlan + DHCP", dhcp, "teardown");

    WriteLatency(report, rows, stacks.Select(s => s.Label).ToList());

    // How far from the floor: a cycle against the same CNI work done directly, and against that plus the two plugin
    // starts netavark's design makes unavoidable (one for setup, one for teardown).
    string F1(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
    string R(double v) => v.ToString("0.00", CultureInfo.InvariantCulture) + "x";
    var floorCycle = Percentile(floorAdd, 0.5) + Percentile(floorDel, 0.5);
    report.AppendLine().AppendLine("| against the floor (medians) | " + string.Join(" | ", stacks.Select(s => s.Label)) + " |")
        .AppendLine("| --- |" + string.Concat(stacks.Select(_ => " --- |")));
    report.AppendLine($"| direct CNI, root: ADD {F1(Percentile(floorAdd, 0.5))} ms + DEL {F1(Percentile(floorDel, 0.5))} ms = {F1(floorCycle)} ms (n={floorAdd.Length}) |" +
        string.Concat(stacks.Select(_ => " |")));
    double CycleOf(string label) => Percentile(rows[2].Samples[label].Order().ToArray(), 0.5) + Percentile(rows[3].Samples[label].Order().ToArray(), 0.5);
    double StartOf(string label) => Percentile(rows[0].Samples[label].Order().ToArray(), 0.5);
    var netavarkCycle = Percentile(netavarkSetup, 0.5) + Percentile(netavarkTeardown, 0.5);
    report.AppendLine($"| netavark {Floor.NetavarkVersion} rootful macvlan (static IP): setup {F1(Percentile(netavarkSetup, 0.5))} ms + teardown {F1(Percentile(netavarkTeardown, 0.5))} ms = {F1(netavarkCycle)} ms |" +
        string.Concat(stacks.Select(_ => " |")));
    report.AppendLine("| net-porter cycle (setup + teardown) | " + string.Join(" | ", stacks.Select(s => $"{F1(CycleOf(s.Label))} ms")) + " |");
    report.AppendLine("| cycle / direct CNI | " + string.Join(" | ", stacks.Select(s => R(CycleOf(s.Label) / floorCycle))) + " |");
    report.AppendLine("| cycle / netavark rootful | " + string.Join(" | ", stacks.Select(s => R(CycleOf(s.Label) / netavarkCycle))) + " |");
    report.AppendLine("| cycle / (direct CNI + 2 plugin starts) | " + string.Join(" | ", stacks.Select(s => R(CycleOf(s.Label) / (floorCycle + (2 * StartOf(s.Label)))))) + " |");

    // The same code as a framework-dependent JIT build, for comparison (current build only).
    var jitDll = Path.Combine(Artifacts.RepoRoot, "src", "Porter.Plugin", "bin", "Release", "net10.0", "linux-x64", "net-porter.dll");
    if (File.Exists(jitDll))
    {
        var jit = new List<double>();
        for (var i = 0; i < Math.Min(iterations, 20); i++)
        {
            var sw = Stopwatch.StartNew();
            Shell.Check("dotnet", jitDll, "info");
            jit.Add(sw.Elapsed.TotalMilliseconds);
        }
        report.AppendLine().AppendLine($"Same plugin under the JIT (`dotnet net-porter.dll info`, current build): p50 {Percentile(jit.Order().ToArray(), 0.5):0.0} ms.");
    }

    report.AppendLine().AppendLine($"| memory | {string.Join(" | ", stacks.Select(s => s.Label))} |").AppendLine($"| --- |{string.Concat(stacks.Select(_ => " --- |"))}");
    report.AppendLine($"| plugin peak RSS (largest of `info`, `create`, `setup`, `teardown`; measured with time(1)) | {string.Join(" | ", stacks.Select(s => $"{new[] { info, create, cycle }.SelectMany(r => r[s.Label]).Max(o => o["max_rss_kib"]!.GetValue<long>()) / 1024.0:0.0} MiB"))} |");
    report.AppendLine($"| server RSS idle (2 s after start, before any call) | {string.Join(" | ", stacks.Select(s => $"{s.IdleRssKib / 1024.0:0.0} MiB"))} |");
    report.AppendLine($"| server RSS after the runs | {string.Join(" | ", stacks.Select(s => $"{Rss(s.Server.Pid) / 1024.0:0.0} MiB"))} |");
    report.AppendLine($"| server start until the first per-user socket accepts | {string.Join(" | ", stacks.Select(s => $"{s.StartupMs:0} ms"))} |");
    report.AppendLine($"| plugin binary size | {string.Join(" | ", stacks.Select(s => $"{new FileInfo(s.Workspace.PluginPath).Length / 1048576.0:0.0} MiB"))} |");
    report.AppendLine($"| server installed size (its directory) | {string.Join(" | ", stacks.Select(s => $"{Load.InstalledMiB(s.ServerBinary):0.0} MiB"))} |");

    // 5-7. Where a cycle's time goes, the server under parallel load, and a soak (current build only).
    var now = stacks[^1];
    var exec = NetavarkJson.Exec(network, now.ContainerId, "bench");
    report.AppendLine().Append(Load.Breakdown(now, exec, Math.Max(10, iterations / 2), StartOf(now.Label)));
    var load = new Load(now, users, network, made);
    var singleSetup = Percentile(rows[2].Samples[now.Label].Order().ToArray(), 0.5);
    report.AppendLine().Append(load.Concurrency([1, 4, 16, 64], singleSetup, Path.Combine(Artifacts.RepoRoot, "bench", "concurrency.svg")));
    report.AppendLine().Append(load.Soak(users.Take(2).ToList(), loopsPerUser: 8, segments: [16, 16, 16, 15]));
    Console.WriteLine(report);
    if (args.Contains("--server-log"))
    {
        foreach (var stack in stacks)
        {
            Console.WriteLine($"--- {stack.Label} server log ---\n{stack.Server.Log}");
        }
    }
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"benchmark failed: {e}");
    return 1;
}

static IEnumerable<double> Ms(JsonObject o, string verb) => o["ms"]![verb]!.AsArray().Select(v => v!.GetValue<double>());

static double Percentile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

static void WriteLatency(StringBuilder report, List<(string What, Dictionary<string, double[]> Samples)> rows, List<string> labels)
{
    string F(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
    if (labels.Count == 1)
    {
        report.AppendLine("| measurement | n | min | p50 | p95 | max |").AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var (what, samples) in rows)
        {
            var s = samples[labels[0]].Order().ToArray();
            report.AppendLine($"| {what} | {s.Length} | {F(s[0])} ms | {F(Percentile(s, 0.5))} ms | {F(Percentile(s, 0.95))} ms | {F(s[^1])} ms |");
        }
        return;
    }
    report.AppendLine("| measurement | n | baseline p50 | now p50 | now / baseline | baseline p95 | now p95 |")
        .AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
    foreach (var (what, samples) in rows)
    {
        var before = samples["baseline"].Order().ToArray();
        var after = samples["now"].Order().ToArray();
        var ratio = Percentile(after, 0.5) / Percentile(before, 0.5);
        report.AppendLine($"| {what} | {after.Length} | {F(Percentile(before, 0.5))} ms | {F(Percentile(after, 0.5))} ms | {ratio.ToString("0.00", CultureInfo.InvariantCulture)}x | {F(Percentile(before, 0.95))} ms | {F(Percentile(after, 0.95))} ms |");
    }
}

static long Rss(int pid) =>
    File.ReadAllLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
        .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).Single();

/// <summary>The direct-CNI floor: a root-owned namespace of its own and bench/floor.py run as root in the scratch host.</summary>
internal sealed record Floor(ScratchLan Lan, string Netns, string Conf, string Script, string Dir)
{
    public const string Netavark = "/usr/lib/podman/netavark";

    public static string NetavarkVersion => Shell.Check(Netavark, "--version").Trim().Replace("netavark ", "", StringComparison.Ordinal);

    public static Floor Create(ScratchLan lan, Disposables made)
    {
        var dir = made.Keep(new ScratchDir()).Path;
        var name = $"npt-floor-{Shell.RandomId()}";
        Shell.Check("ip", "netns", "add", name);
        made.Keep(new Cleanup(() => Shell.Try("ip", "netns", "del", name)));
        var conf = Path.Combine(dir, "floor.json");
        File.WriteAllText(conf, $$"""
            { "cniVersion": "1.0.0", "name": "lan", "type": "macvlan", "master": "{{ScratchLan.Uplink}}",
              "ipam": { "type": "host-local", "dataDir": "{{dir}}/host-local",
                        "ranges": [[{ "subnet": "{{ScratchLan.Subnet}}", "rangeStart": "192.168.77.150", "rangeEnd": "192.168.77.199" }]] } }
            """);
        var script = Path.Combine(dir, "floor.py");
        File.Copy(Path.Combine(Artifacts.RepoRoot, "bench", "floor.py"), script);
        File.Copy(Path.Combine(Artifacts.RepoRoot, "bench", "netavark.py"), Path.Combine(dir, "netavark.py"));
        // What podman passes netavark for `podman run --network lan --ip 192.168.77.210` on a macvlan network.
        File.WriteAllText(Path.Combine(dir, "netavark.json"), $$"""
            { "container_id": "{{new string('b', 64)}}", "container_name": "bench", "port_mappings": [],
              "networks": { "lan": { "interface_name": "eth0", "static_ips": ["192.168.77.210"] } },
              "network_info": { "lan": { "name": "lan", "id": "{{new string('1', 64)}}", "driver": "macvlan", "network_interface": "{{ScratchLan.Uplink}}",
                "subnets": [{ "subnet": "{{ScratchLan.Subnet}}", "gateway": "{{ScratchLan.Gateway}}" }],
                "ipv6_enabled": false, "internal": false, "dns_enabled": false, "ipam_options": { "driver": "host-local" } } } }
            """);
        Directory.CreateDirectory(Path.Combine(dir, "netavark"));
        if (!File.Exists(Netavark))
        {
            throw new InvalidOperationException($"{Netavark} is missing: `just deps` installs Debian's netavark for this comparison");
        }
        return new Floor(lan, $"/run/netns/{name}", conf, script, dir);
    }

    public JsonObject DriveNetavark(int count)
    {
        var result = Lan.InHost("python3", Path.Combine(Dir, "netavark.py"), Netavark, Path.Combine(Dir, "netavark"), Path.Combine(Dir, "netavark.json"),
            Netns, count.ToString(CultureInfo.InvariantCulture));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"netavark's rootful macvlan failed: {result}");
        }
        return JsonNode.Parse(result.Stdout)!.AsObject();
    }

    public JsonObject Drive(int count)
    {
        var result = Lan.InHost("python3", Script, Conf, Netns, count.ToString(CultureInfo.InvariantCulture));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"the direct-CNI floor failed: {result}");
        }
        return JsonNode.Parse(result.Stdout)!.AsObject();
    }
}

internal sealed class ScratchDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("npt-bench-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

internal sealed class Cleanup(Action action) : IDisposable
{
    public void Dispose() => action();
}

/// <summary>One build under test: its own workspace, server, caller and container namespaces on the shared scratch LAN.</summary>
internal sealed record Stack(string Label, Workspace Workspace, PorterServerProcess Server, RootlessCaller Caller, string Driver,
    string Netns, string DhcpNetns, string ContainerId, double StartupMs, long IdleRssKib, string ServerBinary, ScratchLan Lan, Func<bool, string> ConfigFor)
{
    /// <summary>
    /// The server's configuration. Limits: 16 calls per user at once (the default 8 would refuse the concurrency run's
    /// 16 parallel setups per user with RESOURCE_EXHAUSTED, as it should); garbage collection every 5 s, so that it
    /// runs during the loads as it would on a busy host.
    /// </summary>
    public static string Config(Workspace workspace, TestGroup group, IReadOnlyList<TestUser> users, bool timings)
    {
        var allowed = string.Join(", ", users.Select(u => $"\"{u.Name}\""));
        return $$"""
            {
              "domain_socket": { "path": "{{workspace.SocketPath}}", "group": "{{group.Name}}" },
              "resources": [{ "name": "lan", "allow_users": [{{allowed}}] }, { "name": "lan-dhcp", "allow_users": [{{allowed}}] }],
              "state_dir": "{{workspace.StateDir}}",
              "user_sockets": { "runtime_dir": "{{workspace.UserRuntimeRoot}}" },
              "limits": { "concurrent_requests_per_user": 16 },
              "gc_interval_seconds": 5,
              "log": { "level": "warning"{{(timings ? ", \"timings\": true" : "")}} }
            }
            """;
    }

    public static Stack Start(string label, string? plugin, string? server, ScratchLan lan, TestGroup group, IReadOnlyList<TestUser> users, Disposables made)
    {
        var user = users[0];
        var workspace = made.Keep(Workspace.Create(plugin));
        workspace.WriteConfig(Config(workspace, group, users, timings: false));
        // 140 addresses: the 64 parallel setups of the concurrency run all hold one at once.
        workspace.WriteCni("lan.conflist", $$"""
            { "cniVersion": "1.0.0", "name": "lan", "plugins": [{ "type": "macvlan", "master": "{{ScratchLan.Uplink}}",
              "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{ScratchLan.Subnet}}", "rangeStart": "192.168.77.10", "rangeEnd": "192.168.77.149" }]] } }] }
            """);
        workspace.WriteCni("lan-dhcp.conflist", $$"""
            { "cniVersion": "1.0.0", "name": "lan-dhcp", "plugins": [{ "type": "macvlan", "master": "{{ScratchLan.Uplink}}", "ipam": { "type": "dhcp" } }] }
            """);
        foreach (var u in users)
        {
            workspace.RuntimeDirOf(u);
        }
        var clock = Stopwatch.StartNew();
        var process = made.Keep(PorterServerProcess.Start(lan, workspace, serverBinary: server));
        Wait.UntilAccepting(workspace.UserSocketOf(user), TimeSpan.FromSeconds(30), "the user's socket");
        var startup = clock.Elapsed.TotalMilliseconds;
        Thread.Sleep(2000);
        var idleRss = Load.Rss(process.Pid);
        var driver = Path.Combine(workspace.Root, "driver.py");
        File.Copy(Path.Combine(Artifacts.RepoRoot, "bench", "driver.py"), driver);
        File.SetUnixFileMode(driver, (UnixFileMode)Convert.ToInt32("644", 8));
        var caller = made.Keep(RootlessCaller.Start(user, workspace));
        return new Stack(label, workspace, process, caller, driver, caller.CreateContainerNetns(), caller.CreateContainerNetns(), NetavarkJson.NewContainerId(),
            startup, idleRss, server ?? Artifacts.ServerBinary, lan, timings => Config(workspace, group, users, timings));
    }

    public JsonObject Drive(string verb, string? netns, string stdin, int count, string environment = "")
    {
        var result = Caller.Run($"{environment}python3 {Driver} {Workspace.PluginPath} {count} {verb} {netns}", stdin, TimeSpan.FromMinutes(10));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"driver failed ({Label}): {result}");
        }
        return JsonNode.Parse(result.Stdout)!.AsObject();
    }
}
