using System.Text.Json;
using System.Text.Json.Nodes;
using Porter.Testbed;

// A self-contained tour: a scratch "host" and "LAN", the published net-porter-server, and an unprivileged user
// in rootless-podman-style namespaces who runs the real net-porter plugin exactly as netavark would.
// Everything is created here and removed again at the end, also when a step fails.

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

if (!Environment.IsPrivilegedProcess)
{
    Console.Error.WriteLine("the demo must run as root: it creates namespaces, a user and network links");
    return 1;
}

const string Resource = "lan-macvlan";
using var made = new Disposables();
T Keep<T>(T item) where T : IDisposable => made.Keep(item);

try
{
    Step("1. A scratch host and LAN (network namespaces; the machine's own interfaces are not touched)");
    var lan = Keep(ScratchLan.Create());
    Say($"host namespace {lan.HostNs}: uplink {ScratchLan.Uplink}, a veth to LAN namespace {lan.LanNs}");
    Say($"the LAN's router answers at {ScratchLan.Gateway} on {ScratchLan.Subnet}");

    Step("2. Unprivileged users: one who will run rootless containers, and one with no grant");
    var podmanGroup = Keep(TestGroup.Create("podman"));
    var user = Keep(TestUser.Create("demo", podmanGroup));
    var stranger = Keep(TestUser.Create("stranger", podmanGroup));
    Say($"user {user.Name} (uid {user.Uid}) and user {stranger.Name} (uid {stranger.Uid}), both in group {podmanGroup.Name}, which may open the socket");

    Step("3. The server's configuration (the original net-porter format)");
    var workspace = Keep(Workspace.Create());
    var config = $$"""
        {
          "domain_socket": { "path": "{{workspace.SocketPath}}", "user": "root", "group": "{{podmanGroup.Name}}", "mode": "0660" },
          "resources": [
            { "name": "{{Resource}}", "allow_users": ["{{user.Name}}"] }
          ],
          "state_dir": "{{workspace.StateDir}}",
          "user_sockets": { "runtime_dir": "{{workspace.UserRuntimeRoot}}" },
          "log": { "level": "info" }
        }
        """;
    var cni = $$"""
        {
          "cniVersion": "1.0.0",
          "name": "{{Resource}}",
          "plugins": [
            {
              "type": "macvlan",
              "master": "{{ScratchLan.Uplink}}",
              "mode": "bridge",
              "ipam": {
                "type": "host-local",
                "ranges": [[{ "subnet": "{{ScratchLan.Subnet}}", "rangeStart": "192.168.77.100", "rangeEnd": "192.168.77.199", "gateway": "{{ScratchLan.Gateway}}" }]],
                "routes": [{ "dst": "0.0.0.0/0" }]
              }
            }
          ]
        }
        """;
    workspace.WriteConfig(config);
    workspace.WriteCni($"{Resource}.json", cni);
    Show(workspace.ConfigPath, config);
    Show(Path.Combine(workspace.CniDir, $"{Resource}.json"), cni);

    Step("4. net-porter-server starts (as root, in the scratch host namespace); the user is logged in");
    var userRuntimeDir = workspace.RuntimeDirOf(user);
    var server = Keep(PorterServerProcess.Start(lan, workspace));
    Wait.Until(() => File.Exists(workspace.UserSocketOf(user)), TimeSpan.FromSeconds(15), "the user's socket");
    Say($"pid {server.Pid}, main socket {workspace.SocketPath}");
    Say($"and, because {user.Name} is granted a resource, a socket of their own: {workspace.UserSocketOf(user)}");
    Say($"  ({Shell.Check("stat", "-c", "%U %a", workspace.UserSocketOf(user)).Trim()}; {userRuntimeDir} plays /run/user/{user.Uid})");

    Step("5. The user's rootless world: own user, network and mount namespaces, /run replaced but /run/user/UID kept, as podman does");
    var caller = Keep(RootlessCaller.Start(user, workspace));
    var netns = caller.CreateContainerNetns();
    Say($"inside, the user is uid {caller.Run("id -u").Stdout.Trim()}; its uid_map is '{caller.Run("cat /proc/self/uid_map").Stdout.Trim()}'");
    Say($"container netns: {netns} (exists only in the user's mount namespace)");

    Say($"XDG_RUNTIME_DIR={caller.Run("echo $XDG_RUNTIME_DIR").Stdout.Trim()}; it holds: {caller.Run("ls $XDG_RUNTIME_DIR").Stdout.Trim().Replace('\n', ' ')}");

    Step("6. podman network create -d net-porter -o resource=... (the plugin's 'create'; it finds the user's socket itself)");
    var network = NetavarkJson.Network("lan", Resource, socket: null);
    Run(caller, "create", null, network.ToJsonString());

    Step("7. Container start: netavark runs 'net-porter setup <netns>'");
    var containerId = NetavarkJson.NewContainerId();
    var exec = NetavarkJson.Exec(network, containerId, "demo-web");
    var status = Run(caller, "setup", netns, exec);
    var address = status?["interfaces"]?["eth0"]?["subnets"]?[0]?["ipnet"]?.GetValue<string>() ?? throw new InvalidOperationException("setup returned no address");

    Step("8. Inside the container's network namespace");
    Say(caller.InNetns(netns, "ip -br addr show dev eth0").Stdout.Trim());
    var ping = caller.InNetns(netns, $"ping -c 2 -W 2 {ScratchLan.Gateway}");
    Say(ping.ExitCode == 0 ? $"ping {ScratchLan.Gateway}: {ping.Stdout.Split('\n').FirstOrDefault(l => l.Contains("packets transmitted"))}" : $"ping failed: {ping}");
    Say($"server state: {string.Join(", ", Directory.GetFiles(Path.Combine(workspace.StateDir, "cni", "results")).Select(Path.GetFileName))}");

    Step("9. Container stop: netavark runs 'net-porter teardown <netns>'");
    Run(caller, "teardown", netns, exec);
    var after = caller.InNetns(netns, "ip -br link show dev eth0");
    Say(after.ExitCode != 0 ? "eth0 is gone from the container" : $"eth0 still exists: {after.Stdout}");
    var ipFile = Path.Combine(workspace.StateDir, "host-local", Resource, address.Split('/')[0]);
    Say(File.Exists(ipFile) ? $"{address} is still allocated!" : $"{address} is released");

    Step("10. The other user holds no grant: no socket of their own, and through the main socket they are refused");
    using (var strangerCaller = RootlessCaller.Start(stranger, workspace))
    {
        var strangerNetns = strangerCaller.CreateContainerNetns();
        var notFound = strangerCaller.Plugin("setup", strangerNetns, NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), "intruder"));
        Say($"exit {notFound.ExitCode}: {notFound.Stdout.Trim()}");
        var viaMain = NetavarkJson.Network("lan", Resource, workspace.SocketPath);
        var denied = strangerCaller.Plugin("setup", strangerNetns, NetavarkJson.Exec(viaMain, NetavarkJson.NewContainerId(), "intruder"));
        Say($"exit {denied.ExitCode}: {denied.Stdout.Trim()}");
        Say($"links in the stranger's container: {strangerCaller.InNetns(strangerNetns, "ip -br link").Stdout.Trim()}");
    }

    Step("Server log");
    Console.WriteLine(string.Join('\n', server.Log.Split('\n').Where(l => l.Length > 0).Select(l => "    " + l)));
    Step("Done: cleaning up namespaces, user, group and files");
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"\ndemo failed: {e.Message}");
    return 1;
}

static JsonObject? Run(RootlessCaller caller, string verb, string? netns, string stdin)
{
    Console.WriteLine($"    $ net-porter {verb}{(netns is null ? "" : " " + netns)} < {Abbreviate(stdin)}");
    var result = caller.Plugin(verb, netns, stdin);
    Console.WriteLine($"    exit {result.ExitCode}");
    foreach (var line in result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
    {
        Console.WriteLine($"    stderr: {line}");
    }
    if (result.Stdout.Trim().Length == 0)
    {
        return null;
    }
    var json = JsonNode.Parse(result.Stdout)!.AsObject();
    Console.WriteLine(Indent(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
    if (result.ExitCode != 0)
    {
        throw new InvalidOperationException($"net-porter {verb} failed");
    }
    return json;
}

static string Abbreviate(string json) => json.Length <= 100 ? json : json[..97] + "...";

static string Indent(string text) => string.Join('\n', text.Split('\n').Select(l => "    " + l));

static void Step(string title) => Console.WriteLine($"\n== {title}");

static void Say(string text) => Console.WriteLine($"    {text}");

static void Show(string path, string content)
{
    Console.WriteLine($"    {path}:");
    Console.WriteLine(Indent(content.Trim()));
}
