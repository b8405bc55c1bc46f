using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests.Infrastructure;

/// <summary>Shared steps of the abuse tests.</summary>
public static class Abuse
{
    /// <summary>A real, legitimate setup and teardown by alice: the server must still do its job after an attack.</summary>
    public static void AssertStillServing(LanWorld world)
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal), NetavarkJson.NewContainerId(), "legit");
        Observe.Success(caller.Plugin("setup", netns, exec), world.Server);
        Assert.NotNull(Observe.Link(caller, netns, "eth0"));
        var teardown = caller.Plugin("teardown", netns, exec);
        Assert.True(teardown.ExitCode == 0, teardown.ToString());
    }

    /// <summary>Runs Interop/raw_client.py as a user in the background.</summary>
    public static UserProcess RawClient(LanWorld world, TestUser user, params string[] args) =>
        UserProcess.Start(user, ["/usr/bin/python3", Script(world, "raw_client.py"), .. args]);

    /// <summary>A copy of an Interop script, in the workspace, that any user can read.</summary>
    public static string Script(LanWorld world, string name)
    {
        var dir = Path.Combine(world.Workspace.Root, "interop");
        Directory.CreateDirectory(dir, (UnixFileMode)Convert.ToInt32("755", 8));
        var target = Path.Combine(dir, name);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Interop", name), target, overwrite: true);
        File.SetUnixFileMode(target, (UnixFileMode)Convert.ToInt32("644", 8));
        return target;
    }

    /// <summary>A path the user can create to say "ready" from a background script.</summary>
    public static string ReadyFile(LanWorld world, TestUser user) =>
        Path.Combine(world.Workspace.HomeOf(user), $"ready-{Shell.RandomId()}");
}
