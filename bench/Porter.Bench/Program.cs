using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Porter.Testbed;

// Latency and memory of the published binaries, measured the way they are used: the AOT plugin run as netavark runs
// it, from an unprivileged user's rootless-style namespaces, against the server in a scratch host namespace. Prints a
// Markdown report (bench/README.md explains it and keeps the latest numbers).

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

if (!Environment.IsPrivilegedProcess)
{
    Console.Error.WriteLine("the benchmark must run as root: it creates namespaces, a user and network links");
    return 1;
}
var iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50;
var report = new StringBuilder();
using var made = new Disposables();
T Keep<T>(T item) where T : IDisposable => made.Keep(item);

try
{
    var lan = Keep(ScratchLan.Create());
    var group = Keep(TestGroup.Create("bench"));
    var user = Keep(TestUser.Create("bench", group));
    var workspace = Keep(Workspace.Create());
    workspace.WriteConfig($$"""
        {
          "domain_socket": { "path": "{{workspace.SocketPath}}", "group": "{{group.Name}}" },
          "resources": [{ "name": "lan", "allow_users": ["{{user.Name}}"] }, { "name": "lan-dhcp", "allow_users": ["{{user.Name}}"] }],
          "state_dir": "{{workspace.StateDir}}",
          "user_sockets": { "runtime_dir": "{{workspace.UserRuntimeRoot}}" },
          "log": { "level": "warning" }
        }
        """);
    workspace.WriteCni("lan.conflist", $$"""
        { "cniVersion": "1.0.0", "name": "lan", "plugins": [{ "type": "macvlan", "master": "{{ScratchLan.Uplink}}",
          "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{ScratchLan.Subnet}}", "rangeStart": "192.168.77.100", "rangeEnd": "192.168.77.149" }]] } }] }
        """);
    workspace.WriteCni("lan-dhcp.conflist", $$"""
        { "cniVersion": "1.0.0", "name": "lan-dhcp", "plugins": [{ "type": "macvlan", "master": "{{ScratchLan.Uplink}}", "ipam": { "type": "dhcp" } }] }
        """);
    Keep(DnsmasqServer.Start(lan, workspace.Root));
    workspace.RuntimeDirOf(user);

    var clock = Stopwatch.StartNew();
    var server = Keep(PorterServerProcess.Start(lan, workspace));
    Wait.UntilAccepting(workspace.UserSocketOf(user), TimeSpan.FromSeconds(30), "the user's socket");
    var startup = clock.Elapsed.TotalMilliseconds;

    var driver = Path.Combine(workspace.Root, "driver.py");
    File.Copy(Path.Combine(Artifacts.RepoRoot, "bench", "driver.py"), driver);
    File.SetUnixFileMode(driver, (UnixFileMode)Convert.ToInt32("644", 8));
    var caller = Keep(RootlessCaller.Start(user, workspace));

    JsonObject Drive(string verb, string? netns, string stdin, int count)
    {
        var result = caller.Run($"python3 {driver} {workspace.PluginPath} {count} {verb} {netns}", stdin, TimeSpan.FromMinutes(10));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"driver failed: {result}");
        }
        return JsonNode.Parse(result.Stdout)!.AsObject();
    }

    report.AppendLine($"net-porter benchmark, {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} CPUs, kernel {Environment.OSVersion.Version}, {iterations} iterations").AppendLine();
    report.AppendLine("| measurement | n | min | p50 | p95 | max |").AppendLine("| --- | --- | --- | --- | --- | --- |");
    void Row(string what, IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToArray();
        string At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)].ToString("0.0", CultureInfo.InvariantCulture);
        report.AppendLine($"| {what} | {sorted.Length} | {sorted[0].ToString("0.0", CultureInfo.InvariantCulture)} ms | {At(0.5)} ms | {At(0.95)} ms | {sorted[^1].ToString("0.0", CultureInfo.InvariantCulture)} ms |");
    }
    IEnumerable<double> Ms(JsonObject o, string verb) => o["ms"]![verb]!.AsArray().Select(v => v!.GetValue<double>());

    // 1. Start-up of the plugin binary alone (no server involved): the cost netavark pays on every container start.
    var info = Drive("info", null, "", iterations * 2);
    Row("`net-porter info` (Native AOT start-up, no server)", Ms(info, "info"));

    // The same code as a framework-dependent JIT build, for comparison.
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
        Row("same plugin, JIT (`dotnet net-porter.dll info`), for comparison", jit);
    }

    // 2. A full call: plugin start + connect + gRPC Create (ACL, version negotiation cached) + answer.
    var network = NetavarkJson.Network("lan", "lan", null);
    var create = Drive("create", null, network.ToJsonString(), iterations);
    Row("`net-porter create` round trip", Ms(create, "create"));

    // 3. Setup and teardown of a macvlan with host-local IPAM, end to end.
    var netns = caller.CreateContainerNetns();
    var cycle = Drive("cycle", netns, NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), "bench"), iterations);
    Row("`net-porter setup` macvlan + host-local", Ms(cycle, "setup"));
    Row("`net-porter teardown` macvlan + host-local", Ms(cycle, "teardown"));

    // 4. The same with DHCP from dnsmasq on the scratch LAN (lease, DHCPINFORM for DNS; release on teardown).
    var dhcpNetns = caller.CreateContainerNetns();
    var dhcp = Drive("cycle", dhcpNetns, NetavarkJson.Exec(NetavarkJson.Network("lan-dhcp", "lan-dhcp", null), NetavarkJson.NewContainerId(), "bench-dhcp"), Math.Max(5, iterations / 5));
    Row("`net-porter setup` macvlan + DHCP", Ms(dhcp, "setup"));
    Row("`net-porter teardown` macvlan + DHCP", Ms(dhcp, "teardown"));

    report.AppendLine().AppendLine("| memory | value |").AppendLine("| --- | --- |");
    var peak = new[] { info, create, cycle }.Max(o => o["max_rss_kib"]!.GetValue<long>());
    report.AppendLine($"| plugin peak RSS (largest of all runs) | {peak / 1024.0:0.0} MiB |");
    report.AppendLine($"| server RSS after {iterations} setup/teardown cycles | {Rss(server.Pid) / 1024.0:0.0} MiB |");
    report.AppendLine($"| server start until the first per-user socket accepts | {startup:0} ms |");
    report.AppendLine($"| plugin binary size | {new FileInfo(Artifacts.PluginBinary).Length / 1048576.0:0.0} MiB |");
    Console.WriteLine(report);
    if (args.Contains("--server-log"))
    {
        Console.WriteLine(server.Log);
    }
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"benchmark failed: {e}");
    return 1;
}

static long Rss(int pid) =>
    File.ReadAllLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
        .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).Single();
