using System.Text.Json.Nodes;
using Porter.Plugin.Cli;
using Porter.Protocol.V1;
using Xunit;

namespace Porter.Tests.Plugin.Cli;

public sealed class StatusOutputTests
{
    private static StatusResponse Sample()
    {
        var status = new StatusResponse { Caller = new Caller { Uid = 0, User = "root" }, Everyone = true };
        var container = new AttachmentStatus
        {
            Uid = 1000,
            User = "alice",
            Resource = "lan",
            InterfaceName = "eth0",
            Kind = "container",
            ContainerId = "0123456789abcdef0123",
            ContainerName = "web",
            MacAddress = "02:00:00:00:00:01",
            Since = "2026-01-01T00:00:00Z",
            Held = true,
            Complete = true,
            Lease = "acquired 2026-01-01T00:00:01Z (192.168.1.5/24)",
        };
        container.Addresses.Add("192.168.1.5/24");
        status.Attachments.Add(container);
        status.Attachments.Add(new AttachmentStatus
        {
            Uid = 0,
            User = "root",
            Resource = "seg",
            InterfaceName = "eth1",
            Kind = "netns",
            NetnsName = "svc",
            Since = "2026-01-02T00:00:00Z",
            Held = false,
            Complete = false,
        });
        status.Users.Add(new UserUsage { Uid = 0, User = "root", Attachments = 1, AttachmentLimit = 0, RequestsInProgress = 1, RequestLimit = 0 });
        status.Users.Add(new UserUsage { Uid = 1000, User = "alice", Attachments = 1, AttachmentLimit = 256, RequestsInProgress = 0, RequestLimit = 8 });
        return status;
    }

    [Fact]
    public void The_table_has_a_row_per_attachment_and_per_user()
    {
        var output = new StringWriter();
        StatusOutput.PrintTable(output, Sample());

        Assert.Equal("""
            Attachments of every user:
              USER   UID   RESOURCE  IFACE  ATTACHED                      ADDRESSES       MAC                SINCE                 HELD  LEASE
              alice  1000  lan       eth0   container 0123456789ab (web)  192.168.1.5/24  02:00:00:00:00:01  2026-01-01T00:00:00Z  yes   acquired 2026-01-01T00:00:01Z (192.168.1.5/24)
              root   0     seg       eth1   netns svc [setup unfinished]  -               -                  2026-01-02T00:00:00Z  no    -

            Per user:
              USER   UID   ATTACHMENTS  REQUESTS
              root   0     1/unlimited  1/unlimited
              alice  1000  1/256        0/8

            """.ReplaceLineEndings("\n"), output.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_users_own_view_says_whose_it_is_and_none_when_empty()
    {
        var output = new StringWriter();
        StatusOutput.PrintTable(output, new StatusResponse { Caller = new Caller { Uid = 1000, User = "alice" }, Users = { new UserUsage { Uid = 1000, User = "alice", AttachmentLimit = 256, RequestLimit = 8, RequestsInProgress = 1 } } });

        Assert.StartsWith("Attachments of alice (uid 1000):\n  (none)\n", output.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Json_has_every_field()
    {
        var output = new StringWriter();
        StatusOutput.PrintJson(output, Sample());

        var json = JsonNode.Parse(output.ToString())!;
        Assert.True(json["everyone"]!.GetValue<bool>());
        var first = json["attachments"]![0]!;
        Assert.Equal("0123456789abcdef0123", first["container_id"]!.GetValue<string>());
        Assert.Equal(["192.168.1.5/24"], first["addresses"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal("svc", json["attachments"]![1]!["netns_name"]!.GetValue<string>());
        Assert.Equal(256, json["users"]![1]!["attachment_limit"]!.GetValue<int>());
    }
}
