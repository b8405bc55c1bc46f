using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>
/// Rootless netavark runs the plugin where only /run/user/UID of the host's /run is visible. The server therefore
/// keeps a socket in the runtime directory of every granted user — and only theirs — following grants, group
/// memberships and logins as they change, without a restart.
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class PerUserSocketTests(LanWorld world)
{
    private static readonly TimeSpan Noticed = TimeSpan.FromSeconds(15);

    [Fact]
    public void Granted_users_have_a_socket_of_their_own_and_others_have_none()
    {
        foreach (var user in new[] { world.Alice, world.Bob })
        {
            Assert.Equal($"socket {user.Name} 600", Shell.Check("stat", "-c", "%F %U %a", world.Workspace.UserSocketOf(user)).Trim());
        }
        Assert.False(File.Exists(world.Workspace.UserSocketOf(world.Mallory)));
    }

    [Fact]
    public void Without_a_socket_of_their_own_the_plugin_says_where_it_looked()
    {
        using var caller = world.Caller(world.Mallory);
        var netns = caller.CreateContainerNetns();

        var error = Observe.Error(caller.Plugin("setup", netns, NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal), NetavarkJson.NewContainerId(), "x")));

        Assert.Equal($"no net-porter-server socket found (tried /run/user/{world.Mallory.Uid}/net-porter.sock, /run/net-porter.sock): " +
                     "is net-porter-server running, and is your user granted a resource? Or name the socket with -o socket=PATH", error);
    }

    [Fact]
    public void Nobody_else_can_use_a_users_socket()
    {
        using var bob = world.Caller(world.Bob);
        var netns = bob.CreateContainerNetns();
        var aliceSocket = world.Workspace.UserSocketOf(world.Alice);

        var error = Observe.Error(bob.Plugin("setup", netns, NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal, socket: aliceSocket), NetavarkJson.NewContainerId(), "x")));

        Assert.StartsWith($"PERMISSION_DENIED: cannot reach net-porter-server at {aliceSocket}: permission denied", error);
    }

    [Fact]
    public void A_socket_its_user_deleted_comes_back()
    {
        using var caller = world.Caller(world.Alice);
        var socket = world.Workspace.UserSocketOf(world.Alice);

        Assert.Equal(0, caller.Run($"rm {caller.RuntimeDir}/net-porter.sock").ExitCode);
        Assert.False(File.Exists(socket));
        Wait.Until(() => File.Exists(socket), Noticed, "socket recreated", () => world.Server.Log);

        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanL2), NetavarkJson.NewContainerId(), "back");
        Observe.Success(caller.Plugin("setup", netns, exec), world.Server);
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
    }

    [Fact]
    public void Sockets_follow_grants_group_memberships_and_logins_without_a_restart()
    {
        using var workspace = Workspace.Create();
        workspace.CopyFrom(world.Workspace);
        using var group = TestGroup.Create("late");
        using var carol = TestUser.Create("carol", world.SocketGroup);
        string Config(string users) => $$"""
            {
              "domain_socket": { "path": "{{workspace.SocketPath}}", "group": "{{world.SocketGroup.Name}}" },
              "resources": [{ "name": "{{LanWorld.MacvlanL2}}", "allow_users": [{{users}}], "allow_groups": ["{{group.Name}}"] }],
              "state_dir": "{{workspace.StateDir}}",
              "user_sockets": { "runtime_dir": "{{workspace.UserRuntimeRoot}}" }
            }
            """;
        workspace.WriteConfig(Config(""));
        var socket = workspace.UserSocketOf(carol);
        using var server = PorterServerProcess.Start(world.Lan, workspace);

        // Logged in but not granted: no socket.
        workspace.RuntimeDirOf(carol);
        Thread.Sleep(TimeSpan.FromSeconds(4));
        Assert.False(File.Exists(socket));

        // Granted by a reload: the socket appears, and works.
        workspace.WriteConfig(Config($"\"{carol.Name}\""));
        server.Reload();
        Wait.Until(() => File.Exists(socket), Noticed, "socket after the grant", () => server.Log);
        using (var caller = RootlessCaller.Start(carol, workspace))
        {
            var netns = caller.CreateContainerNetns();
            var exec = NetavarkJson.Exec(NetavarkJson.Network("l2", LanWorld.MacvlanL2, null), NetavarkJson.NewContainerId(), "carol");
            Observe.Success(caller.Plugin("setup", netns, exec), server);
            Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
        }

        // The grant is withdrawn: the socket goes.
        workspace.WriteConfig(Config(""));
        server.Reload();
        Wait.Until(() => !File.Exists(socket), Noticed, "socket gone after the grant was withdrawn", () => server.Log);

        // Granted through a group she joins later: noticed by the periodic re-check.
        Shell.Check("gpasswd", "-a", carol.Name, group.Name);
        Wait.Until(() => File.Exists(socket), Noticed, "socket after joining the group", () => server.Log);
        Shell.Check("gpasswd", "-d", carol.Name, group.Name);
        Wait.Until(() => !File.Exists(socket), Noticed, "socket gone after leaving the group", () => server.Log);

        // Logout and login: the runtime directory vanishes and comes back.
        Shell.Check("gpasswd", "-a", carol.Name, group.Name);
        Wait.Until(() => File.Exists(socket), Noticed, "socket after rejoining", () => server.Log);
        Directory.Delete(Path.GetDirectoryName(socket)!, recursive: true);
        Wait.Until(() => server.Log.Contains($"per-user socket for uid {carol.Uid} removed", StringComparison.Ordinal), Noticed, "removal after logout", () => server.Log);
        workspace.RuntimeDirOf(carol);
        Wait.Until(() => File.Exists(socket), Noticed, "socket after logging in again", () => server.Log);

        // A clean stop removes it.
        server.Stop();
        Assert.False(File.Exists(socket));
    }

    [Fact]
    public void Whatever_a_user_put_at_the_socket_name_is_left_alone()
    {
        using var workspace = Workspace.Create();
        using var dave = TestUser.Create("dave", world.SocketGroup);
        var runtimeDir = workspace.RuntimeDirOf(dave);
        var socket = workspace.UserSocketOf(dave);
        var target = Path.Combine(workspace.Root, "target");
        File.WriteAllText(target, "precious");
        File.CreateSymbolicLink(socket, target);
        Shell.Check("chown", "-h", $"{dave.Uid}:{dave.Gid}", socket);
        workspace.CopyFrom(world.Workspace);
        workspace.WriteConfig($$"""
            {
              "domain_socket": { "path": "{{workspace.SocketPath}}", "group": "{{world.SocketGroup.Name}}" },
              "resources": [{ "name": "{{LanWorld.MacvlanL2}}", "allow_users": ["{{dave.Name}}"] }],
              "state_dir": "{{workspace.StateDir}}",
              "user_sockets": { "runtime_dir": "{{workspace.UserRuntimeRoot}}" }
            }
            """);
        using var server = PorterServerProcess.Start(world.Lan, workspace);

        Wait.Until(() => server.Log.Contains("no per-user socket for", StringComparison.Ordinal), Noticed, "warning", () => server.Log);
        Assert.Contains($"{socket} exists and is a symbolic link; leaving it alone", server.Log);
        Assert.Equal("symbolic link", Shell.Check("stat", "-c", "%F", socket).Trim());
        Assert.Equal("precious", File.ReadAllText(target));
        Assert.Equal("regular file root 644", Shell.Check("stat", "-c", "%F %U %a", target).Trim());

        // Once the user clears the name, the socket is made.
        File.Delete(socket);
        Wait.Until(() => File.Exists(socket) && Shell.Check("stat", "-c", "%F", socket).Trim() == "socket", Noticed, "socket after clearing", () => server.Log);
        Assert.Equal(runtimeDir, Path.GetDirectoryName(socket));
    }
}
