using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>What happens when things go wrong: a failing chain is undone, and state survives a server crash.</summary>
[Collection(LanWorldCollection.Name)]
public sealed class RollbackAndRestartTests(LanWorld world)
{
    [Fact]
    public void A_chain_failing_after_the_link_was_made_is_rolled_back_completely()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var id = NetavarkJson.NewContainerId();

        var error = Observe.Error(caller.Plugin("setup", netns, NetavarkJson.Exec(world.Network(LanWorld.BrokenChain), id, "broken")));

        // The user sees the failing plugin's own message; the macvlan it had made and its address are gone.
        Assert.StartsWith("FAILED_PRECONDITION: setup of container", error);
        Assert.Contains("CNI plugin 'tuning' failed (ADD)", error);
        Assert.Contains("no_such_setting", error);
        Assert.Equal(["lo"], Observe.LinkNames(caller, netns));
        Assert.Empty(world.AllocatedIps(LanWorld.BrokenChain));
        Assert.DoesNotContain(world.CachedAttachments(), f => f.Contains(id, StringComparison.Ordinal));
    }

    [Fact]
    public void Teardown_works_after_the_server_was_killed_and_restarted()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal), NetavarkJson.NewContainerId(), "survivor");
        var status = Observe.Success(caller.Plugin("setup", netns, exec), world.Server);
        var address = status["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>().Split('/')[0];

        world.CrashAndRestartServer();

        var teardown = caller.Plugin("teardown", netns, exec);
        Assert.True(teardown.ExitCode == 0, $"{teardown}\n{world.Server.Log}");
        Assert.Null(Observe.Link(caller, netns, "eth0"));
        Assert.DoesNotContain(address, world.AllocatedIps(LanWorld.MacvlanHostLocal));
    }

    [Fact]
    public void A_second_setup_of_an_attached_container_is_refused_and_changes_nothing()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal), NetavarkJson.NewContainerId(), "twice");
        Observe.Success(caller.Plugin("setup", netns, exec), world.Server);
        var allocated = world.AllocatedIps(LanWorld.MacvlanHostLocal);

        var error = Observe.Error(caller.Plugin("setup", netns, exec));

        Assert.StartsWith("ALREADY_EXISTS: ", error);
        Assert.Equal(allocated, world.AllocatedIps(LanWorld.MacvlanHostLocal));
        Assert.NotNull(Observe.Link(caller, netns, "eth0"));
        Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
    }

    [Fact]
    public void Setup_after_a_lost_teardown_releases_the_leftover_first()
    {
        // The container's first netns died without a teardown (podman crashed); it starts again in a new one.
        using var caller = world.Caller(world.Alice);
        var first = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal), NetavarkJson.NewContainerId(), "phoenix");
        var old = Observe.Success(caller.Plugin("setup", first, exec), world.Server)["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>();
        caller.RemoveContainerNetns(first);

        var second = caller.CreateContainerNetns();
        var status = Observe.Success(caller.Plugin("setup", second, exec), world.Server);

        Assert.NotNull(Observe.Link(caller, second, "eth0"));
        var now = status["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>();
        var allocated = world.AllocatedIps(LanWorld.MacvlanHostLocal);
        Assert.Contains(now.Split('/')[0], allocated);
        if (old != now)
        {
            Assert.DoesNotContain(old.Split('/')[0], allocated);
        }
        Assert.Equal(0, caller.Plugin("teardown", second, exec).ExitCode);
    }

    [Fact]
    public void An_attached_namespace_stays_held_so_no_new_namespace_takes_its_inode()
    {
        // The kernel gives the inode numbers of freed namespaces to new ones (seen here within a second). The record
        // recognises its namespace by inode, so while an attachment lives the server's hold keeps that inode taken:
        // a container restarted after a crash must never be mistaken for the one that is still attached.
        using var caller = world.Caller(world.Alice);
        var first = caller.CreateContainerNetns();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal), NetavarkJson.NewContainerId(), "held-inode");
        var address = Observe.Success(caller.Plugin("setup", first, exec), world.Server)["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>().Split('/')[0];
        var attached = Inode(caller, first);
        caller.RemoveContainerNetns(first); // podman crashed: no teardown, and its bind mount is gone

        for (var i = 0; i < 8; i++)
        {
            Thread.Sleep(100); // time for the kernel to free a namespace that nothing holds
            var next = caller.CreateContainerNetns(running: false);
            Assert.NotEqual(attached, Inode(caller, next));
            caller.RemoveContainerNetns(next);
        }
        var teardown = caller.Plugin("teardown", first, exec);
        Assert.Equal(0, teardown.ExitCode);
        Assert.DoesNotContain(address, world.AllocatedIps(LanWorld.MacvlanHostLocal));
        Assert.Empty(Directory.GetFiles(Path.Combine(world.Workspace.StateDir, "netns")));
    }

    private static string Inode(RootlessCaller caller, string netns)
    {
        var stat = caller.Run($"stat -L -c %i {netns}");
        Assert.Equal(0, stat.ExitCode);
        return stat.Stdout.Trim();
    }
}
