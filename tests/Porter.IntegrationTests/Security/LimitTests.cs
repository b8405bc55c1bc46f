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
    public async Task Requests_beyond_the_per_user_limit_are_refused_while_others_proceed()
    {
        // bob's 8 request slots are held by 8 setups whose ADD a gate plugin holds (calls a handler is working on).
        using var workspace = Workspace.Create();
        var plugins = GatePlugins.Create(workspace, "plugins", markerFails: false);
        workspace.WriteCni("mv-gate.conflist", $$"""
            {
              "cniVersion": "1.0.0", "name": "mv-gate",
              "plugins": [{ "type": "macvlan", "master": "{{ScratchLan.Uplink}}", "mode": "private" }, { "type": "gate" }]
            }
            """);
        workspace.WriteConfig($$"""
            {
              "domain_socket": { "path": "{{workspace.SocketPath}}", "group": "{{world.SocketGroup.Name}}" },
              "resources": [{ "name": "mv-gate", "allow_users": ["{{world.Bob.Name}}", "{{world.Alice.Name}}"] }],
              "cni_plugin_dir": "{{plugins}}",
              "state_dir": "{{workspace.StateDir}}",
              "user_sockets": { "runtime_dir": "{{workspace.UserRuntimeRoot}}" }
            }
            """);
        workspace.RuntimeDirOf(world.Bob);
        workspace.RuntimeDirOf(world.Alice);
        using var server = PorterServerProcess.Start(world.Lan, workspace);
        Wait.UntilAccepting(workspace.UserSocketOf(world.Bob), TimeSpan.FromSeconds(15), "bob's socket", () => server.Log);
        var network = NetavarkJson.Network("gate", "mv-gate", null);
        using var callers = new Disposables();
        var held = Enumerable.Range(0, 8).Select(i =>
        {
            var caller = callers.Keep(RootlessCaller.Start(world.Bob, workspace));
            var netns = caller.CreateContainerNetns();
            var exec = NetavarkJson.Exec(network, NetavarkJson.NewContainerId(), $"held{i}");
            return (Caller: caller, Netns: netns, Exec: exec, Setup: Task.Run(() => caller.Plugin("setup", netns, exec)));
        }).ToList();
        Wait.Until(() => Directory.GetFiles(plugins, "waiting-*").Length == 8, TimeSpan.FromSeconds(30), "8 held setups", () => server.Log);

        using (var bob = RootlessCaller.Start(world.Bob, workspace))
        {
            var error = Observe.Error(bob.Plugin("create", null, CreateJson("mv-gate")));
            Assert.Equal($"RESOURCE_EXHAUSTED: {world.Bob.Name} (uid {world.Bob.Uid}) already has 8 requests in progress (the limit); try again when they finish", error);
        }
        using (var alice = RootlessCaller.Start(world.Alice, workspace))
        {
            Observe.Success(alice.Plugin("create", null, CreateJson("mv-gate")), server);
        }

        // Once the setups finish, bob is served again.
        File.WriteAllText(Path.Combine(plugins, "gate.go"), "");
        foreach (var (caller, netns, exec, setup) in held)
        {
            Observe.Success(await setup.WaitAsync(TimeSpan.FromSeconds(60)), server);
            Assert.Equal(0, caller.Plugin("teardown", netns, exec).ExitCode);
        }
        using (var bob = RootlessCaller.Start(world.Bob, workspace))
        {
            Observe.Success(bob.Plugin("create", null, CreateJson("mv-gate")), server);
        }
    }

    [Fact]
    public void Calls_whose_bodies_never_arrive_hold_no_request_slot_and_everyone_is_served()
    {
        var before = WorldState.Of(world);
        var ready = Abuse.ReadyFile(world, world.Bob);
        // 2 connections x 8 calls that send headers and never a body: no handler runs for them, so no slot is taken.
        using var hold = Abuse.RawClient(world, world.Bob, "hold", world.Workspace.UserSocketOf(world.Bob), "2", "8", "3", ready);
        Wait.Until(() => File.Exists(ready), TimeSpan.FromSeconds(30), "the held calls to be in place");

        using (var bob = world.Caller(world.Bob))
        {
            Observe.Success(bob.Plugin("create", null, CreateJson(LanWorld.MacvlanHostLocal)), world.Server);
        }
        Abuse.AssertStillServing(world);
        hold.WaitForExit(TimeSpan.FromSeconds(60));
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
