using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>Start-up and the listening socket: clear refusals, exact permissions, systemd activation, never TCP.</summary>
[Collection(LanWorldCollection.Name)]
public sealed class ServerStartupTests(LanWorld world)
{
    /// <summary>The configuration example of the original net-porter README, verbatim, missing comma included.</summary>
    private static readonly string OriginalReadmeConfig = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "original-readme-config.json"));

    [Fact]
    public void A_malformed_config_is_refused_with_file_line_column_and_what_was_expected()
    {
        using var workspace = Workspace.Create();
        workspace.WriteConfig(OriginalReadmeConfig);

        var result = Shell.Run(Artifacts.ServerBinary, "--config", workspace.ConfigPath);

        Assert.Equal(78, result.ExitCode);
        Assert.Equal(
            $"net-porter-server: {workspace.ConfigPath}:11:7: invalid JSON: '\"' is invalid after a value. Expected either ',', '}}', or ']'.",
            result.Stderr.Trim());
    }

    [Fact]
    public void A_graceful_stop_exits_cleanly_and_removes_its_sockets()
    {
        using var workspace = Workspace.Create();
        workspace.CopyFrom(world.Workspace);
        workspace.RuntimeDirOf(world.Alice);
        var server = PorterServerProcess.Start(world.Lan, workspace);
        Wait.UntilAccepting(workspace.UserSocketOf(world.Alice), TimeSpan.FromSeconds(15), "alice's socket", () => server.Log);

        server.Stop();

        Assert.True(server.ExitCode == 0, $"exit {server.ExitCode}\n{server.Log}");
        Assert.DoesNotContain("Unhandled exception", server.Log);
        Assert.False(File.Exists(workspace.SocketPath));
        Assert.False(File.Exists(workspace.UserSocketOf(world.Alice)));
        server.Dispose();
    }

    [Fact]
    public void Check_validates_and_summarises_without_starting()
    {
        var result = Shell.Run(Artifacts.ServerBinary, "--config", world.Workspace.ConfigPath, "--check");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"resource {LanWorld.MacvlanHostLocal}: macvlan(host-local), runs at CNI 1.0.0", result.Stdout);
        Assert.Contains($"resource {LanWorld.MacvlanL2}: macvlan, runs at CNI 0.4.0", result.Stdout);
        Assert.Contains("configuration OK", result.Stdout);
    }

    [Fact]
    public void The_socket_has_the_configured_owner_group_and_mode_and_there_is_no_tcp_listener()
    {
        var stat = Shell.Check("stat", "-c", "%F %U %G %a", world.Workspace.SocketPath).Trim();
        Assert.Equal($"socket root {world.SocketGroup.Name} 660", stat);

        var tcp = world.Lan.InHost("ss", "-Hltn");
        Assert.Equal(0, tcp.ExitCode);
        Assert.Equal("", tcp.Stdout.Trim());
        var unix = world.Lan.InHost("ss", "-Hlx");
        Assert.Contains(Path.GetDirectoryName(world.Workspace.SocketPath)!, unix.Stdout);
    }

    [Fact]
    public void A_user_outside_the_socket_group_cannot_connect_at_all()
    {
        using var outsider = TestUser.Create("outsider");
        using var caller = RootlessCaller.Start(outsider, world.Workspace);
        var netns = caller.CreateContainerNetns();
        var error = Observe.Error(caller.Plugin("setup", netns, NetavarkJson.Exec(world.MainSocketNetwork(LanWorld.MacvlanHostLocal), NetavarkJson.NewContainerId(), "x")));
        Assert.Equal($"PERMISSION_DENIED: cannot reach net-porter-server at {world.Workspace.SocketPath}: permission denied (the server's domain_socket user/group does not include you)", error);
    }

    [Fact]
    public void A_stale_socket_file_is_replaced_but_a_live_server_or_a_regular_file_is_never_touched()
    {
        using var workspace = Workspace.Create();
        workspace.CopyFrom(world.Workspace);

        // Stale: a socket file nobody listens on (left by a crash).
        // (.NET would unlink its socket file on close, so python leaves it behind the way a crashed server does.)
        Shell.Check("/usr/bin/python3", "-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", workspace.SocketPath);
        Assert.Equal("socket", Shell.Check("stat", "-c", "%F", workspace.SocketPath).Trim());
        using (var server = PorterServerProcess.Start(world.Lan, workspace))
        {
            Assert.Equal("socket", Shell.Check("stat", "-c", "%F", workspace.SocketPath).Trim());

            // Live: a second server on the same path must refuse, not steal the socket.
            var second = Shell.Run("nsenter", [$"--net={world.Lan.HostNsPath}", "--", Artifacts.ServerBinary, "--config", workspace.ConfigPath], null, TimeSpan.FromSeconds(30));
            Assert.Equal(1, second.ExitCode);
            Assert.Equal($"net-porter-server: another server is already listening on {workspace.SocketPath}", second.Stderr.Trim());
            Assert.False(server.HasExited);
        }
        Assert.False(File.Exists(workspace.SocketPath), "a graceful stop removes the socket file");

        // Not a socket: never replaced.
        File.WriteAllText(workspace.SocketPath, "precious");
        var refused = Shell.Run("nsenter", [$"--net={world.Lan.HostNsPath}", "--", Artifacts.ServerBinary, "--config", workspace.ConfigPath], null, TimeSpan.FromSeconds(30));
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal($"net-porter-server: {workspace.SocketPath} exists and is a regular file, not a socket; refusing to replace it", refused.Stderr.Trim());
        Assert.Equal("precious", File.ReadAllText(workspace.SocketPath));
    }

    [Fact]
    public void Systemd_socket_activation_is_used_and_a_foreign_LISTEN_PID_is_refused()
    {
        using var workspace = Workspace.Create();
        workspace.CopyFrom(world.Workspace);
        var path = workspace.SocketPath;

        // systemd-socket-activate binds the socket and execs the server with LISTEN_FDS/LISTEN_PID, like systemd.
        var startInfo = new System.Diagnostics.ProcessStartInfo("systemd-socket-activate")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "-l", path, "nsenter", $"--net={world.Lan.HostNsPath}", "--", Artifacts.ServerBinary, "--config", workspace.ConfigPath })
        {
            startInfo.ArgumentList.Add(arg);
        }
        using var activator = System.Diagnostics.Process.Start(startInfo)!;
        var log = new System.Text.StringBuilder();
        activator.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        activator.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        activator.BeginOutputReadLine();
        activator.BeginErrorReadLine();
        try
        {
            // A .socket unit would set SocketGroup=/SocketMode=; systemd-socket-activate leaves umask permissions.
            Wait.Until(() => File.Exists(path), TimeSpan.FromSeconds(10), $"systemd-socket-activate creating {path}");
            Shell.Check("chmod", "0666", path);
            using var caller = RootlessCaller.Start(world.Alice, workspace);
            var network = NetavarkJson.Network("act", LanWorld.MacvlanHostLocal, path);
            network["ipam_options"] = null;
            // The first connection starts the server (socket activation), which then answers it.
            var created = caller.Plugin("create", null, network.ToJsonString());
            Assert.True(created.ExitCode == 0, $"{created}\n{log}");
            lock (log)
            {
                // The activated socket is used, and where it differs from domain_socket (here: its group and mode) that is said.
                Assert.Contains($"listening on {path} (root:root 0666), passed by systemd", log.ToString());
                Assert.Contains($"the socket systemd passed ({path} root:root 0666) differs from domain_socket in {workspace.ConfigPath} "
                    + $"({path} root:{world.SocketGroup.Name} 0660); the socket systemd passed is used", log.ToString());
            }
        }
        finally
        {
            Shell.Try("kill", "-TERM", activator.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (!activator.WaitForExit(TimeSpan.FromSeconds(15)))
            {
                activator.Kill(entireProcessTree: true);
            }
        }

        var foreign = Shell.Run("env", ["LISTEN_FDS=1", "LISTEN_PID=1", "nsenter", $"--net={world.Lan.HostNsPath}", "--", Artifacts.ServerBinary, "--config", workspace.ConfigPath], null, TimeSpan.FromSeconds(30));
        Assert.Equal(1, foreign.ExitCode);
        Assert.Contains("LISTEN_FDS is set, but LISTEN_PID (1) is not this process", foreign.Stderr);
    }
}
