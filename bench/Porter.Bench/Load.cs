using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Porter.Testbed;

/// <summary>
/// The parts of the bench that look inside and under load, on the current build's stack: the server's phase timings
/// for a cycle (log.timings), parallel setups from several users, and a soak that counts what the server and the host
/// hold before and after.
/// </summary>
internal sealed partial class Load(Stack stack, IReadOnlyList<TestUser> users, JsonObject network, Disposables made)
{
    private const int NamespacesPerUser = 16;
    private readonly Dictionary<string, (RootlessCaller Caller, List<string> Netns)> _callers = [];

    private static string F1(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);

    private static string F2(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);

    private static double Percentile(IReadOnlyList<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
    }

    public static long Rss(int pid) => StatusField(pid, "VmRSS:");

    private static long StatusField(int pid, string field) =>
        File.ReadAllLines($"/proc/{pid}/status").Where(l => l.StartsWith(field, StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).Single();

    /// <summary>Everything in the server binary's directory (what an installation copies).</summary>
    public static double InstalledMiB(string serverBinary) =>
        new DirectoryInfo(Path.GetDirectoryName(serverBinary)!).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) / 1048576.0;

    // ---- phase breakdown ----

    [GeneratedRegex(@"timings (?<verb>Setup|Teardown) uid \d+: total (?<total>[\d.]+) ms: (?<phases>.*)$", RegexOptions.Multiline)]
    private static partial Regex TimingLine();

    [GeneratedRegex(@"^(?<name>.+?) (?<ms>\d+\.\d\d)(?: \(x(?<n>\d+)\))?$")]
    private static partial Regex Phase();

    [GeneratedRegex(@" \(main ([\d.]+) ms\)$")]
    private static partial Regex PluginMain();

    /// <summary>
    /// COUNT cycles with log.timings on (switched by a reload, and off again after), the server's phase lines read
    /// from its log: per phase the median over the calls and how often it ran per call; and what the caller saw
    /// beyond the server's total (plugin start, connecting, HTTP/2, exit).
    /// </summary>
    public static string Breakdown(Stack stack, string exec, int count, double infoMedian)
    {
        SetTimings(stack, true);
        var from = stack.Server.Log.Length;
        var client = stack.Drive("cycle", stack.Netns, exec, count, "NET_PORTER_TIMINGS=1 ");
        Thread.Sleep(500); // the console logger writes on a thread of its own
        var log = stack.Server.Log[from..];
        SetTimings(stack, false);

        var report = new StringBuilder();
        report.AppendLine($"Phase breakdown: {count} cycles with `log.timings` on; medians per call over the calls (a phase that ran more than once per call is summed per call first).").AppendLine();
        foreach (var verb in new[] { "Setup", "Teardown" })
        {
            var calls = TimingLine().Matches(log).Where(m => m.Groups["verb"].Value == verb).Select(m =>
            {
                var phases = new List<(string Name, double Ms, int N)>();
                foreach (var part in m.Groups["phases"].Value.TrimEnd('\r').Split(", "))
                {
                    var p = Phase().Match(part);
                    if (p.Success)
                    {
                        phases.Add((p.Groups["name"].Value, double.Parse(p.Groups["ms"].Value, CultureInfo.InvariantCulture),
                            p.Groups["n"].Success ? int.Parse(p.Groups["n"].Value, CultureInfo.InvariantCulture) : 1));
                    }
                }
                return (Total: double.Parse(m.Groups["total"].Value, CultureInfo.InvariantCulture), Phases: phases);
            }).ToList();
            if (calls.Count == 0)
            {
                report.AppendLine($"(no timing lines for {verb} in the server log)").AppendLine();
                continue;
            }
            var wall = client["ms"]![verb.ToLowerInvariant()]!.AsArray().Select(v => v!.GetValue<double>()).ToList();
            var serverTotal = Percentile(calls.Select(c => c.Total).ToList(), 0.5);
            var wallMedian = Percentile(wall, 0.5);
            report.AppendLine($"| `net-porter {verb.ToLowerInvariant()}` (n={calls.Count}) | median ms | runs per call |").AppendLine("| --- | --- | --- |");
            report.AppendLine($"| whole call as the caller sees it | {F2(wallMedian)} | |");
            report.AppendLine($"| (the plugin process's start-up alone, `net-porter info`, for comparison) | {F2(infoMedian)} | |");
            // The plugin's own phases (NET_PORTER_TIMINGS=1): "input 0.21, client 0.93, http pipeline 2.3, connect 0.2, call 2.85, output 0.08 (main 5.17 ms)".
            var plugin = (client["client_timings"]?[verb.ToLowerInvariant()]?.AsArray() ?? []).Select(t =>
            {
                var line = t!["line"]!.GetValue<string>();
                var main = double.Parse(PluginMain().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
                var phases = PluginMain().Replace(line, "").Split(", ").Select(part => Phase().Match(part.Trim()))
                    .Where(m => m.Success).ToDictionary(m => m.Groups["name"].Value, m => double.Parse(m.Groups["ms"].Value, CultureInfo.InvariantCulture));
                return (Outside: t["wall"]!.GetValue<double>() - main, Phases: phases);
            }).ToList();
            if (plugin.Count > 0)
            {
                report.AppendLine($"| plugin: runtime start-up before Main, and exit after it | {F2(Percentile(plugin.Select(p => p.Outside).ToList(), 0.5))} | 1 |");
                foreach (var (name, what) in new[] { ("input", "read and check netavark's JSON"), ("client", "make the gRPC channel and client"),
                    ("http pipeline", "start the call: grpc-dotnet and HttpClient until they ask for a connection"),
                    ("connect", "connect the unix socket"), ("call", "the call, from connected to the answer (the server's handler below is inside it)"),
                    ("output", "write the answer") })
                {
                    report.AppendLine($"| plugin: {what} | {F2(Percentile(plugin.Select(p => p.Phases.GetValueOrDefault(name)).ToList(), 0.5))} | 1 |");
                }
                var call = Percentile(plugin.Select(p => p.Phases.GetValueOrDefault("call")).ToList(), 0.5);
                report.AppendLine($"| plugin: the call beyond the server's handler (HTTP/2 both ways, the server's accept and SETTINGS, protobuf) | {F2(call - serverTotal)} | |");
            }
            report.AppendLine($"| **server handler total** | **{F2(serverTotal)}** | |");
            foreach (var name in calls.SelectMany(c => c.Phases.Select(p => p.Name)).Distinct())
            {
                var perCall = calls.Select(c => c.Phases.Where(p => p.Name == name).Sum(p => p.Ms)).ToList();
                var runs = calls.Average(c => c.Phases.Where(p => p.Name == name).Sum(p => p.N));
                report.AppendLine($"| {name} | {F2(Percentile(perCall, 0.5))} | {runs.ToString("0.#", CultureInfo.InvariantCulture)} |");
            }
            report.AppendLine();
        }
        return report.ToString();
    }

    /// <summary>Rewrites the configuration with or without log.timings, reloads, and waits until a call shows the change.</summary>
    private static void SetTimings(Stack stack, bool on)
    {
        stack.Workspace.WriteConfig(stack.ConfigFor(on));
        stack.Server.Reload();
        var create = NetavarkJson.Network("lan", "lan", null).ToJsonString();
        for (var i = 0; i < 50; i++)
        {
            var from = stack.Server.Log.Length;
            stack.Drive("create", null, create, 1);
            Thread.Sleep(100);
            if (stack.Server.Log[from..].Contains("timings Create", StringComparison.Ordinal) == on)
            {
                return;
            }
        }
        throw new InvalidOperationException($"log.timings={on} did not take effect after a reload:\n{stack.Server.Log}");
    }

    // ---- parallel load ----

    private (RootlessCaller Caller, List<string> Netns) CallerOf(TestUser user)
    {
        if (!_callers.TryGetValue(user.Name, out var entry))
        {
            var caller = user == users[0] ? stack.Caller : made.Keep(RootlessCaller.Start(user, stack.Workspace));
            entry = (caller, Enumerable.Range(0, NamespacesPerUser).Select(_ => caller.CreateContainerNetns()).ToList());
            _callers[user.Name] = entry;
        }
        return entry;
    }

    private sealed record Run(int Cycles, double Seconds, List<double> Setup, List<double> Teardown, int Errors, List<string> ErrorSamples);

    /// <summary>Every given user runs its loops at once, each loop COUNT cycles of a container of its own.</summary>
    private Run Parallel(IReadOnlyList<(TestUser User, int Loops, int Count)> plan, string name)
    {
        var exec = NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), name);
        var parts = plan.Select(p => (p, Entry: CallerOf(p.User))).ToList();
        var runs = parts.Select(x => Task.Factory.StartNew(() =>
        {
            var netns = string.Join(' ', x.Entry.Netns.Take(x.p.Loops));
            var result = x.Entry.Caller.Run($"python3 {stack.Driver} {stack.Workspace.PluginPath} {x.p.Count} parallel {netns}", exec, TimeSpan.FromMinutes(15));
            return result.ExitCode == 0
                ? JsonNode.Parse(result.Stdout)!.AsObject()
                : throw new InvalidOperationException($"parallel driver failed for {x.p.User.Name}: {result}");
        }, TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(runs);
        var outputs = runs.Select(t => t.Result).ToList();
        List<double> Ms(string verb) => outputs.SelectMany(o => o["ms"]![verb]!.AsArray().Select(v => v!.GetValue<double>())).ToList();
        var seconds = outputs.Max(o => o["end"]!.GetValue<double>()) - outputs.Min(o => o["start"]!.GetValue<double>());
        var setup = Ms("setup");
        return new Run(Ms("teardown").Count, seconds, setup, Ms("teardown"), outputs.Sum(o => o["errors"]!.GetValue<int>()),
            outputs.SelectMany(o => o["error_samples"]!.AsArray().Select(e => e!.GetValue<string>())).ToList());
    }

    /// <summary>
    /// Cycles per second and setup latency at each level of parallelism, from up to four users at once (every user
    /// its own rootless-style caller, each loop its own container). Writes a small SVG chart of the same numbers.
    /// </summary>
    public string Concurrency(int[] levels, double singleSetupMedian, string svgPath)
    {
        var report = new StringBuilder();
        report.AppendLine($"Concurrency: setup/teardown cycles (macvlan + host-local) from {users.Count} users at once; single-setup median (above) {F1(singleSetupMedian)} ms.").AppendLine();
        report.AppendLine("| parallel | users | cycles | cycles/s | setup p50 | setup p99 | p99 / single-setup median | teardown p50 | teardown p99 | errors |")
            .AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        var points = new List<(int Parallel, double PerSecond, double P50, double P99)>();
        var errors = new List<string>();
        foreach (var level in levels)
        {
            var userCount = Math.Min(users.Count, level);
            var loops = level / userCount;
            var count = Math.Max(3, 128 / level);
            var run = Parallel(users.Take(userCount).Select(u => (u, loops, count)).ToList(), $"conc{level}");
            var perSecond = run.Cycles / run.Seconds;
            var p50 = Percentile(run.Setup, 0.5);
            var p99 = Percentile(run.Setup, 0.99);
            points.Add((level, perSecond, p50, p99));
            errors.AddRange(run.ErrorSamples);
            report.AppendLine($"| {level} | {userCount} | {run.Cycles} | {F1(perSecond)} | {F1(p50)} ms | {F1(p99)} ms | {F2(p99 / singleSetupMedian)}x | " +
                $"{F1(Percentile(run.Teardown, 0.5))} ms | {F1(Percentile(run.Teardown, 0.99))} ms | {run.Errors} |");
        }
        if (errors.Count > 0)
        {
            report.AppendLine().AppendLine("First errors:").AppendLine();
            foreach (var e in errors.Take(5))
            {
                report.AppendLine($"    {e.ReplaceLineEndings(" ")}");
            }
        }
        File.WriteAllText(svgPath, Svg(points));
        report.AppendLine().AppendLine($"Chart: `bench/{Path.GetFileName(svgPath)}` (cycles/s bars, setup p50 and p99 lines).");
        return report.ToString();
    }

    private static string Svg(List<(int Parallel, double PerSecond, double P50, double P99)> points)
    {
        const int W = 560, H = 300, Left = 50, Right = 60, Top = 50, Bottom = 40;
        var plotW = W - Left - Right;
        var plotH = H - Top - Bottom;
        var maxRate = Math.Ceiling(points.Max(p => p.PerSecond) * 1.15 / 10) * 10;
        var maxMs = Math.Ceiling(points.Max(p => p.P99) * 1.15 / 50) * 50;
        var slot = plotW / (double)points.Count;
        var svg = new StringBuilder();
        string N(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
        svg.AppendLine($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"11\">");
        svg.AppendLine($"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>");
        svg.AppendLine($"<text x=\"{W / 2}\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">net-porter: cycles/s (bars) and setup latency (lines) by parallel callers</text>");
        svg.AppendLine($"<text x=\"{W / 2}\" y=\"34\" text-anchor=\"middle\">macvlan + host-local, 2 CPUs; parallel loops of setup + teardown from up to 4 users</text>");
        svg.AppendLine($"<line x1=\"{Left}\" y1=\"{Top + plotH}\" x2=\"{Left + plotW}\" y2=\"{Top + plotH}\" stroke=\"black\"/>");
        svg.AppendLine($"<text x=\"12\" y=\"{Top + (plotH / 2)}\" transform=\"rotate(-90 12 {Top + (plotH / 2)})\" text-anchor=\"middle\">cycles/s (max {N(maxRate)})</text>");
        svg.AppendLine($"<text x=\"{W - 12}\" y=\"{Top + (plotH / 2)}\" transform=\"rotate(90 {W - 12} {Top + (plotH / 2)})\" text-anchor=\"middle\">setup ms (max {N(maxMs)})</text>");
        var p50Line = new List<string>();
        var p99Line = new List<string>();
        for (var i = 0; i < points.Count; i++)
        {
            var (parallel, rate, p50, p99) = points[i];
            var cx = Left + (slot * i) + (slot / 2);
            var h = plotH * rate / maxRate;
            svg.AppendLine($"<rect x=\"{N(cx - (slot * 0.3))}\" y=\"{N(Top + plotH - h)}\" width=\"{N(slot * 0.6)}\" height=\"{N(h)}\" fill=\"#7aa6d6\"/>");
            svg.AppendLine($"<text x=\"{N(cx)}\" y=\"{N(Top + plotH - h - 4)}\" text-anchor=\"middle\">{N(rate)}/s</text>");
            svg.AppendLine($"<text x=\"{N(cx)}\" y=\"{Top + plotH + 15}\" text-anchor=\"middle\">{parallel} parallel</text>");
            var y50 = Top + plotH - (plotH * p50 / maxMs);
            var y99 = Top + plotH - (plotH * p99 / maxMs);
            p50Line.Add($"{N(cx)},{N(y50)}");
            p99Line.Add($"{N(cx)},{N(y99)}");
            svg.AppendLine($"<text x=\"{N(cx + (slot * 0.32))}\" y=\"{N(y99 - 3)}\" fill=\"#d42\">{N(Math.Round(p99))} ms</text>");
            svg.AppendLine($"<text x=\"{N(cx + (slot * 0.32))}\" y=\"{N(y50 + 12)}\" fill=\"#2a7\">{N(Math.Round(p50))} ms</text>");
        }
        svg.AppendLine($"<polyline points=\"{string.Join(' ', p50Line)}\" fill=\"none\" stroke=\"#2a7\" stroke-width=\"2\"/>");
        svg.AppendLine($"<polyline points=\"{string.Join(' ', p99Line)}\" fill=\"none\" stroke=\"#d42\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/>");
        svg.AppendLine($"<text x=\"{Left}\" y=\"{H - 8}\" fill=\"#2a7\">— setup p50</text><text x=\"{Left + 90}\" y=\"{H - 8}\" fill=\"#d42\">- - setup p99</text>");
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    // ---- soak ----

    private sealed record Counts(int Fds, long Threads, long RssKib, int HostLinks, int Allocations, int Records, int Holds, int Mounts)
    {
        public IEnumerable<string> Cells() =>
            [Fds.ToString(CultureInfo.InvariantCulture), Threads.ToString(CultureInfo.InvariantCulture), $"{RssKib / 1024.0:0.0} MiB",
             HostLinks.ToString(CultureInfo.InvariantCulture), Allocations.ToString(CultureInfo.InvariantCulture),
             Records.ToString(CultureInfo.InvariantCulture), Holds.ToString(CultureInfo.InvariantCulture), Mounts.ToString(CultureInfo.InvariantCulture)];
    }

    private Counts Count()
    {
        var pid = stack.Server.Pid;
        var state = stack.Workspace.StateDir;
        int Files(string dir, Func<string, bool> keep) =>
            Directory.Exists(dir) ? Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Count(keep) : 0;
        return new Counts(
            Directory.GetFiles($"/proc/{pid}/fd").Length,
            StatusField(pid, "Threads:"),
            Rss(pid),
            stack.Lan.InHost("ip", "-o", "link").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length,
            Files(Path.Combine(state, "host-local"), f => System.Net.IPAddress.TryParse(Path.GetFileName(f), out _)),
            Files(Path.Combine(state, "cni", "results"), _ => true),
            Files(Path.Combine(state, "netns"), _ => true),
            MountsUnder(pid, stack.Workspace.Root));
    }

    /// <summary>
    /// Mounts the server sees under the run's workspace (its holds, bound under the state directory). The server shares
    /// the machine's mount namespace, where anyone else's mounts come and go; those are not its doing.
    /// </summary>
    private static int MountsUnder(int pid, string root) =>
        File.ReadAllLines($"/proc/{pid}/mountinfo").Count(l => l.Split(' ') is [_, _, _, _, var point, ..] && point.StartsWith(root + "/", StringComparison.Ordinal));

    /// <summary>The server's own CPU time and that of its waited-for children (the CNI plugins), in seconds.</summary>
    private static (double Own, double Children) CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        double Ticks(int field) => long.Parse(fields[field - 3], CultureInfo.InvariantCulture) / 100.0; // fields as man 5 proc numbers them
        return (Ticks(14) + Ticks(15), Ticks(16) + Ticks(17));
    }

    /// <summary>
    /// Segments of cycles from two users' loops at once; the counts before, after every segment (to tell a leak, which
    /// keeps growing, from a plateau) and after a pause once the last one ended.
    /// </summary>
    public string Soak(IReadOnlyList<TestUser> soakUsers, int loopsPerUser, int[] segments)
    {
        foreach (var u in soakUsers)
        {
            CallerOf(u);
        }
        Thread.Sleep(3000);
        var rows = new List<(string When, Counts Counts)> { ("before", Count()) };
        var cpuBefore = CpuSeconds(stack.Server.Pid);
        var cycles = 0;
        var errors = 0;
        var samples = new List<string>();
        var seconds = 0.0;
        var setups = new List<double>();
        foreach (var perLoop in segments)
        {
            var run = Parallel(soakUsers.Select(u => (u, loopsPerUser, perLoop)).ToList(), "soak");
            cycles += run.Cycles;
            errors += run.Errors;
            seconds += run.Seconds;
            setups.AddRange(run.Setup);
            samples.AddRange(run.ErrorSamples);
            rows.Add(($"after {cycles} cycles", Count()));
        }
        var cpuAfter = CpuSeconds(stack.Server.Pid);
        Thread.Sleep(5000);
        rows.Add(("5 s later", Count()));

        var before = rows[0].Counts;
        var after = rows[^1].Counts;
        var report = new StringBuilder();
        report.AppendLine($"Soak: {cycles} setup/teardown cycles, {soakUsers.Count * loopsPerUser} in parallel ({loopsPerUser} loops each from {soakUsers.Count} users), " +
            $"{F1(cycles / seconds)} cycles/s, setup p50 {F1(Percentile(setups, 0.5))} ms / p99 {F1(Percentile(setups, 0.99))} ms, {errors} errors. " +
            $"CPU per cycle: server {F1((cpuAfter.Own - cpuBefore.Own) * 1000 / cycles)} ms, the CNI plugins it ran {F1((cpuAfter.Children - cpuBefore.Children) * 1000 / cycles)} ms.").AppendLine();
        report.AppendLine("| when | server fds | threads | RSS | host links | host-local allocations | attachment records | holds | mounts under the workspace |")
            .AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var (when, counts) in rows)
        {
            report.AppendLine($"| {when} | {string.Join(" | ", counts.Cells())} |");
        }
        var equal = before with { RssKib = 0, Threads = 0 } == after with { RssKib = 0, Threads = 0 };
        var rss = (after.RssKib - before.RssKib) * 100.0 / before.RssKib;
        report.AppendLine().AppendLine($"Before and after: counts {(equal ? "all equal" : "DIFFER")}; threads {before.Threads} -> {after.Threads}; RSS {rss.ToString("+0.0;-0.0", CultureInfo.InvariantCulture)}%.");
        foreach (var e in samples.Take(5))
        {
            report.AppendLine($"    {e.ReplaceLineEndings(" ")}");
        }
        return report.ToString();
    }
}
