using System.Text.Json.Nodes;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests.Security;

/// <summary>
/// One user cannot starve the others: open connections, requests in progress and attachments are limited per user
/// (defaults 32, 8, 256). Beyond a limit that user is refused; everyone else is served throughout; and the limit
/// frees up again when the user lets go.
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class LimitTests(LanWorld world)
{
    private static string CreateJson(string resource) => new JsonObject
    {
        ["name"] = "probe",
        ["id"] = new string('b', 64),
        ["driver"] = "net-porter",
        ["options"] = new JsonObject { ["resource"] = resource },
    }.ToJsonString();

    [Fact]
    public void Hundreds_of_connections_from_one_user_are_capped_while_others_are_served()
    {
        var before = WorldState.Of(world);
        var ready = Abuse.ReadyFile(world, world.Bob);
        using var flood = Abuse.RawClient(world, world.Bob, "flood", world.Workspace.UserSocketOf(world.Bob), "300", "8", ready);
        Wait.Until(() => File.Exists(ready), TimeSpan.FromSeconds(30), "the flood to be in place");

        // While bob holds his connections: bob is turned away, alice is served.
        using (var bob = world.Caller(world.Bob))
        {
            var refused = bob.Plugin("create", null, CreateJson(LanWorld.MacvlanHostLocal));
            Assert.StartsWith("UNAVAILABLE: ", Observe.Error(refused));
        }
        Abuse.AssertStillServing(world);

        var result = JsonNode.Parse(flood.WaitForExit(TimeSpan.FromSeconds(60)).Stdout)!;
        Assert.Equal(300, result["opened"]!.GetValue<int>() + result["refused"]!.GetValue<int>());
        Assert.Equal(32, result["kept"]!.GetValue<int>());

        // Once he lets go, bob is served again.
        using (var bob = world.Caller(world.Bob))
        {
            Observe.Success(bob.Plugin("create", null, CreateJson(LanWorld.MacvlanHostLocal)), world.Server);
        }
        before.AssertUnchanged(world);
    }

    [Fact]
    public void Requests_beyond_the_per_user_limit_are_refused_while_others_proceed()
    {
        var before = WorldState.Of(world);
        var ready = Abuse.ReadyFile(world, world.Bob);
        // 2 connections x 8 calls whose bodies never arrive: 8 hold bob's request slots, the other 8 are refused.
        using var hold = Abuse.RawClient(world, world.Bob, "hold", world.Workspace.UserSocketOf(world.Bob), "2", "8", "3", ready);
        Wait.Until(() => File.Exists(ready), TimeSpan.FromSeconds(30), "the held calls to be in place");

        using (var bob = world.Caller(world.Bob))
        {
            var error = Observe.Error(bob.Plugin("create", null, CreateJson(LanWorld.MacvlanHostLocal)));
            Assert.Equal($"RESOURCE_EXHAUSTED: {world.Bob.Name} (uid {world.Bob.Uid}) already has 8 requests in progress (the limit); try again when they finish", error);
        }
        using (var alice = world.Caller(world.Alice))
        {
            Observe.Success(alice.Plugin("create", null, CreateJson(LanWorld.MacvlanHostLocal)), world.Server);
        }

        hold.WaitForExit(TimeSpan.FromSeconds(60));
        Wait.Until(() =>
        {
            using var bob = world.Caller(world.Bob);
            return bob.Plugin("create", null, CreateJson(LanWorld.MacvlanHostLocal)).ExitCode == 0;
        }, TimeSpan.FromSeconds(20), "bob's slots to free up", () => world.Server.Log);
        before.AssertUnchanged(world);
    }

    [Fact]
    public void Attachments_beyond_the_per_user_limit_are_refused_until_one_is_released()
    {
        using var workspace = Workspace.Create();
        workspace.CopyFrom(world.Workspace);
        workspace.WriteConfig(File.ReadAllText(workspace.ConfigPath).Replace(
            "\"state_dir\":", "\"limits\": { \"attachments_per_user\": 2 },\n  \"state_dir\":", StringComparison.Ordinal));
        workspace.RuntimeDirOf(world.Alice);
        using var server = PorterServerProcess.Start(world.Lan, workspace);
        Wait.UntilAccepting(workspace.UserSocketOf(world.Alice), TimeSpan.FromSeconds(15), "alice's socket", () => server.Log);
        using var alice = RootlessCaller.Start(world.Alice, workspace);
        var network = NetavarkJson.Network("l2", LanWorld.MacvlanL2, null);
        var attached = new List<(string Netns, string Exec)>();
        for (var i = 0; i < 2; i++)
        {
            var netns = alice.CreateContainerNetns();
            var exec = NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), $"c{i}");
            Observe.Success(alice.Plugin("setup", netns, exec), server);
            attached.Add((netns, exec));
        }

        var third = alice.CreateContainerNetns();
        var thirdExec = NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), "c2");
        Assert.Equal($"RESOURCE_EXHAUSTED: {world.Alice.Name} (uid {world.Alice.Uid}) already has 2 attachments (limit 2); tear some down first",
            Observe.Error(alice.Plugin("setup", third, thirdExec)));
        Assert.Equal(["lo"], Observe.LinkNames(alice, third));

        Assert.Equal(0, alice.Plugin("teardown", attached[0].Netns, attached[0].Exec).ExitCode);
        Observe.Success(alice.Plugin("setup", third, thirdExec), server);
        Assert.Equal(0, alice.Plugin("teardown", third, thirdExec).ExitCode);
        Assert.Equal(0, alice.Plugin("teardown", attached[1].Netns, attached[1].Exec).ExitCode);
    }
}
