using System.Globalization;
using System.Text.Json.Nodes;
using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests;

/// <summary>`net-porter status`: root sees every user's attachments through the main socket; a user sees their own.</summary>
[Collection(LanWorldCollection.Name)]
public sealed class StatusTests(LanWorld world)
{
    [Fact]
    public void Root_sees_every_attachment_and_each_user_only_their_own()
    {
        using var caller = world.Caller(world.Alice);
        var netns = caller.CreateContainerNetns();
        var containerId = NetavarkJson.NewContainerId();
        var exec = NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal), containerId, "web1");
        using var alices = UnsharedProcess.Start(world.Alice);
        using var bobs = UnsharedProcess.Start(world.Bob);
        try
        {
            var container = Observe.Success(caller.Plugin("setup", netns, exec), world.Server);
            var containerAddress = container["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>();
            var dhcp = PorterCli.AsUser(world.Workspace, world.Alice, "attach", "-r", LanWorld.MacvlanDhcp, "--pid", alices.PidText, "--json");
            Assert.True(dhcp.ExitCode == 0, $"{dhcp}\n{world.Server.Log}");
            var dhcpAddress = JsonNode.Parse(dhcp.Stdout)!["interfaces"]!["eth0"]!["subnets"]![0]!["ipnet"]!.GetValue<string>();
            var bob = PorterCli.AsUser(world.Workspace, world.Bob, "attach", "-r", LanWorld.MacvlanHostLocal, "--pid", bobs.PidText);
            Assert.True(bob.ExitCode == 0, $"{bob}\n{world.Server.Log}");

            // Root, through the main socket: everyone's.
            var rootJson = Json(PorterCli.AsRoot(world.Workspace, "status", "--json"));
            Assert.True(rootJson["everyone"]!.GetValue<bool>());
            var rows = rootJson["attachments"]!.AsArray().Select(a => a!.AsObject()).ToList();
            var containerRow = Assert.Single(rows, r => r["container_id"]!.GetValue<string>() == containerId);
            Assert.Equal(world.Alice.Name, containerRow["user"]!.GetValue<string>());
            Assert.Equal(world.Alice.Uid, containerRow["uid"]!.GetValue<uint>());
            Assert.Equal("container", containerRow["kind"]!.GetValue<string>());
            Assert.Equal("web1", containerRow["container_name"]!.GetValue<string>());
            Assert.Equal(LanWorld.MacvlanHostLocal, containerRow["resource"]!.GetValue<string>());
            Assert.Equal("eth0", containerRow["interface"]!.GetValue<string>());
            Assert.Equal([containerAddress], Strings(containerRow["addresses"]));
            Assert.Equal(container["interfaces"]!["eth0"]!["mac_address"]!.GetValue<string>(), containerRow["mac_address"]!.GetValue<string>());
            Assert.True(containerRow["held"]!.GetValue<bool>());
            Assert.True(containerRow["complete"]!.GetValue<bool>());
            Assert.Equal("", containerRow["lease"]!.GetValue<string>());
            var since = DateTimeOffset.Parse(containerRow["since"]!.GetValue<string>(), CultureInfo.InvariantCulture);
            Assert.InRange(since, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));

            var dhcpRow = Assert.Single(rows, r => r["kind"]!.GetValue<string>() == "process" && r["pid"]!.GetValue<int>() == alices.Pid);
            Assert.Equal("sleep", dhcpRow["process_name"]!.GetValue<string>());
            Assert.Equal($"ns-{alices.NetnsInode}", dhcpRow["container_id"]!.GetValue<string>());
            Assert.Equal(alices.NetnsInode, dhcpRow["netns_inode"]!.GetValue<ulong>());
            Assert.Equal([dhcpAddress], Strings(dhcpRow["addresses"]));
            Assert.Matches($@"^acquired \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ \({dhcpAddress.Replace(".", "\\.", StringComparison.Ordinal)}\)$", dhcpRow["lease"]!.GetValue<string>());
            Assert.Single(rows, r => r["uid"]!.GetValue<uint>() == world.Bob.Uid && r["pid"]!.GetValue<int>() == bobs.Pid);
            var users = rootJson["users"]!.AsArray().Select(u => u!.AsObject()).ToList();
            var aliceUsage = Assert.Single(users, u => u["uid"]!.GetValue<uint>() == world.Alice.Uid);
            Assert.Equal(2, aliceUsage["attachments"]!.GetValue<int>());
            Assert.Equal(256, aliceUsage["attachment_limit"]!.GetValue<int>());
            Assert.Equal(8, aliceUsage["request_limit"]!.GetValue<int>());
            Assert.Equal(1, Assert.Single(users, u => u["uid"]!.GetValue<uint>() == world.Bob.Uid)["attachments"]!.GetValue<int>());

            // The table shows the same, a row per attachment and per user.
            var table = PorterCli.AsRoot(world.Workspace, "status");
            Assert.True(table.ExitCode == 0, table.ToString());
            var lines = table.Stdout.Split('\n');
            Assert.Equal("Attachments of every user:", lines[0]);
            Assert.Matches(@"^  USER +UID +RESOURCE +IFACE +ATTACHED +ADDRESSES +MAC +SINCE +HELD +LEASE$", lines[1]);
            Assert.Contains(lines, l => l.StartsWith($"  {world.Alice.Name}  ", StringComparison.Ordinal) && l.Contains($"container {containerId[..12]} (web1)", StringComparison.Ordinal)
                && l.Contains(containerAddress, StringComparison.Ordinal) && l.Contains(" yes ", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains($"process {alices.Pid} (sleep)", StringComparison.Ordinal) && l.Contains(LanWorld.MacvlanDhcp, StringComparison.Ordinal)
                && l.Contains("acquired ", StringComparison.Ordinal));
            var perUser = Array.IndexOf(lines, "Per user:");
            Assert.True(perUser > 0, table.Stdout);
            Assert.Contains(lines[perUser..], l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^  {world.Alice.Name} +{world.Alice.Uid} +2/256 +0/8$"));
            Assert.Contains(lines[perUser..], l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^  {world.Bob.Name} +{world.Bob.Uid} +1/256 +0/8$"));

            // Alice, through her own socket (found as for netavark's calls): only her two, and only her counts.
            var aliceJson = Json(PorterCli.AsUser(world.Workspace, world.Alice, "status", "--json"));
            Assert.False(aliceJson["everyone"]!.GetValue<bool>());
            Assert.Equal(2, aliceJson["attachments"]!.AsArray().Count);
            Assert.All(aliceJson["attachments"]!.AsArray(), a => Assert.Equal(world.Alice.Uid, a!["uid"]!.GetValue<uint>()));
            var aliceOnly = Assert.Single(aliceJson["users"]!.AsArray());
            Assert.Equal(world.Alice.Uid, aliceOnly!["uid"]!.GetValue<uint>());
            // Her status call itself is the one request she has in progress.
            Assert.Equal(1, aliceOnly["requests_in_progress"]!.GetValue<int>());
            var aliceTable = PorterCli.AsUser(world.Workspace, world.Alice, "status");
            Assert.StartsWith($"Attachments of {world.Alice.Name} (uid {world.Alice.Uid}):\n", aliceTable.Stdout);
            Assert.DoesNotContain(world.Bob.Name, aliceTable.Stdout);

            // Mallory, who has nothing: an empty list and her own zero count, also through the main socket.
            var malloryJson = Json(PorterCli.AsUser(world.Workspace, world.Mallory, "status", "--json", "--socket", world.Workspace.SocketPath));
            Assert.Empty(malloryJson["attachments"]!.AsArray());
            Assert.Equal(0, Assert.Single(malloryJson["users"]!.AsArray())!["attachments"]!.GetValue<int>());
        }
        finally
        {
            caller.Plugin("teardown", netns, exec);
            PorterCli.AsUser(world.Workspace, world.Alice, "detach", "-r", LanWorld.MacvlanDhcp, "--pid", alices.PidText);
            PorterCli.AsUser(world.Workspace, world.Bob, "detach", "-r", LanWorld.MacvlanHostLocal, "--pid", bobs.PidText);
        }
        Assert.DoesNotContain(Json(PorterCli.AsRoot(world.Workspace, "status", "--json"))["attachments"]!.AsArray(),
            a => a!["uid"]!.GetValue<uint>() is var uid && (uid == world.Alice.Uid || uid == world.Bob.Uid));
    }

    private static JsonObject Json(ShellResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonNode.Parse(result.Stdout)!.AsObject();
    }

    private static List<string> Strings(JsonNode? array) => array!.AsArray().Select(a => a!.GetValue<string>()).ToList();
}
