using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Porter.Server.Attachments;
using Porter.Server.Cni.Invocation;
using Porter.Server.Cni.Runtime;
using Porter.Server.Configuration;
using Porter.Server.Identity;
using Porter.Server.Limits;
using Xunit;

namespace Porter.Tests.Server.Attachments;

/// <summary>The per-user attachment limit counts setups from the moment they pass the check, not only records on disk.</summary>
public sealed class AttachmentQuotaTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly CniRuntime _runtime;
    private readonly AttachmentQuota _quota;
    private static readonly CallerIdentity Alice = new(1000, 1000, 1, "alice", []);
    private static readonly CallerIdentity Bob = new(1001, 1001, 2, "bob", []);

    public AttachmentQuotaTests()
    {
        var executor = new PluginExecutor(NullLogger<PluginExecutor>.Instance);
        _runtime = new CniRuntime(executor, new VersionNegotiator(executor), new AttachmentStore(_dir.Path), [], NullLogger<CniRuntime>.Instance);
        _quota = new AttachmentQuota(_runtime, new UserLimits(() => new LimitsConfig(32, 8, AttachmentsPerUser: 2)));
    }

    public void Dispose() => _dir.Dispose();

    private static AttachmentKey Key(CallerIdentity who, string id) => new(who.Uid, "lan", id, "eth0");

    private void Record(CallerIdentity who, string id) => _runtime.Attachments.Write(new AttachmentRecord
    {
        Id = Key(who, id).Record,
        Config = "{}"u8.ToArray(),
        NetNs = "",
        CniArgs = [],
        CapabilityArgs = ImmutableDictionary<string, JsonNode>.Empty,
        Complete = true,
        Facts = new AttachmentFacts { Uid = who.Uid },
    });

    [Fact]
    public void Setups_under_way_count_before_their_records_exist()
    {
        using var first = _quota.Claim(Alice, Key(Alice, "a"));
        using var second = _quota.Claim(Alice, Key(Alice, "b"));

        var e = Assert.Throws<RpcException>(() => _quota.Claim(Alice, Key(Alice, "c")));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal("alice (uid 1000) already has 2 attachments (limit 2); tear some down first", e.Status.Detail);
        // Others are not affected, nor is root.
        using var bobs = _quota.Claim(Bob, Key(Bob, "a"));
        using var roots = _quota.Claim(new CallerIdentity(0, 0, 3, "root", []), new AttachmentKey(0, "lan", "x", "eth0"));
    }

    [Fact]
    public void A_setup_and_its_own_record_count_once_and_a_finished_claim_frees_its_place()
    {
        Record(Alice, "a");
        using (_quota.Claim(Alice, Key(Alice, "b")))
        {
            Record(Alice, "b"); // the setup wrote its record while it still holds its claim
            Assert.Throws<RpcException>(() => _quota.Claim(Alice, Key(Alice, "c")));
        }
        _runtime.Attachments.Delete(Key(Alice, "b").Record);

        using var c = _quota.Claim(Alice, Key(Alice, "c"));
    }

    [Fact]
    public void Parallel_claims_never_exceed_the_limit()
    {
        var granted = 0;
        var refused = 0;
        var claims = new System.Collections.Concurrent.ConcurrentBag<IDisposable>();
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
        {
            try
            {
                claims.Add(_quota.Claim(Alice, Key(Alice, $"c{i}")));
                Interlocked.Increment(ref granted);
            }
            catch (RpcException)
            {
                Interlocked.Increment(ref refused);
            }
        });
        Assert.Equal((2, 14), (granted, refused));
        foreach (var claim in claims)
        {
            claim.Dispose();
        }
    }
}
