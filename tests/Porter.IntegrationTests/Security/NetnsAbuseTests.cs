using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests.Security;

/// <summary>
/// A granted user (bob) tries to make root attach an interface in a namespace that is not his: the host's, another
/// user's container, through /proc, through symlinks he plants in his own netns directory. Every attempt is refused
/// with a clear error, and afterwards nothing has changed and the server still serves.
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class NetnsAbuseTests(LanWorld world)
{
    [Fact]
    public void Namespaces_that_are_not_the_callers_own_are_refused_whatever_the_path()
    {
        // Alice's container namespace, made visible to everyone by root (podman would never do this; an attacker
        // who can name it must still be refused by the ownership check).
        using var alice = world.Caller(world.Alice);
        var aliceNetns = alice.CreateContainerNetns();
        var sleeper = alice.Run($"nsenter --net={aliceNetns} -- sleep 600 > /dev/null 2>&1 & echo $!");
        Assert.Equal(0, sleeper.ExitCode);
        var aliceShared = Path.Combine(world.Workspace.SharedDir, $"alice-netns-{Shell.RandomId()}");
        File.WriteAllText(aliceShared, "");
        Shell.Check("mount", "--bind", $"/proc/{sleeper.Stdout.Trim()}/ns/net", aliceShared);

        using var bob = world.Caller(world.Bob);
        var links = $"{bob.RuntimeDir}/netns";
        Assert.Equal(0, bob.Run(
            $"ln -s /proc/1/ns/net {links}/to-proc && ln -s {world.HostNetnsBind} {links}/to-host && " +
            $"ln -s {aliceShared} {links}/to-alice && ln -s {links}/loop-b {links}/loop-a && ln -s {links}/loop-a {links}/loop-b").ExitCode);
        var bobShell = bob.Run("echo $$").Stdout.Trim();
        var before = WorldState.Of(world);
        var aliceLinksBefore = Observe.LinkNames(alice, aliceNetns);

        string Attempt(string path) =>
            Observe.Error(bob.Plugin("setup", path, NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal), NetavarkJson.NewContainerId(), "attack")));
        var magic = "is refused: it leads through a /proc magic link, a symlink loop or something inaccessible; pass the bind-mounted netns path instead";

        Assert.Equal($"INVALID_ARGUMENT: netns path /proc/1/ns/net {magic}", Attempt("/proc/1/ns/net"));
        Assert.Equal($"INVALID_ARGUMENT: netns path /proc/self/ns/net {magic}", Attempt("/proc/self/ns/net"));
        // Even his own rootless network namespace, when named through /proc.
        Assert.Equal($"INVALID_ARGUMENT: netns path /proc/{bobShell}/ns/net {magic}", Attempt($"/proc/{bobShell}/ns/net"));
        Assert.Equal($"PERMISSION_DENIED: netns {world.HostNetnsBind} is not yours: its user namespace belongs to uid 0, you are uid {world.Bob.Uid}",
            Attempt(world.HostNetnsBind));
        Assert.Equal($"PERMISSION_DENIED: netns {aliceShared} is not yours: its user namespace belongs to uid {world.Alice.Uid}, you are uid {world.Bob.Uid}",
            Attempt(aliceShared));
        Assert.Equal($"INVALID_ARGUMENT: netns path {links}/to-proc {magic}", Attempt($"{links}/to-proc"));
        Assert.Equal($"PERMISSION_DENIED: netns {links}/to-host is not yours: its user namespace belongs to uid 0, you are uid {world.Bob.Uid}",
            Attempt($"{links}/to-host"));
        Assert.Equal($"PERMISSION_DENIED: netns {links}/to-alice is not yours: its user namespace belongs to uid {world.Alice.Uid}, you are uid {world.Bob.Uid}",
            Attempt($"{links}/to-alice"));
        Assert.Equal($"INVALID_ARGUMENT: netns path {links}/loop-a {magic}", Attempt($"{links}/loop-a"));
        Assert.Equal("INVALID_ARGUMENT: netns path run/user/x is not absolute", Attempt("run/user/x"));
        // /run/netns of the host is not even visible where rootless podman runs the plugin.
        Assert.Equal($"NOT_FOUND: netns path {world.Lan.HostNsPath} does not exist", Attempt(world.Lan.HostNsPath));

        before.AssertUnchanged(world);
        Assert.Equal(aliceLinksBefore, Observe.LinkNames(alice, aliceNetns));
        Abuse.AssertStillServing(world);
    }

    [Fact]
    public void Teardown_of_another_users_container_touches_nothing_of_theirs()
    {
        using var alice = world.Caller(world.Alice);
        using var bob = world.Caller(world.Bob);
        var aliceNetns = alice.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal), NetavarkJson.NewContainerId(), "alices");
        Observe.Success(alice.Plugin("setup", aliceNetns, exec), world.Server);
        var before = WorldState.Of(world);

        var teardown = bob.Plugin("teardown", bob.CreateContainerNetns(), exec);

        Assert.Equal(0, teardown.ExitCode);
        Assert.Contains("nothing is attached for container", teardown.Stderr);
        before.AssertUnchanged(world);
        Assert.NotNull(Observe.Link(alice, aliceNetns, "eth0"));
        Assert.Equal(0, alice.Plugin("teardown", aliceNetns, exec).ExitCode);
    }
}
