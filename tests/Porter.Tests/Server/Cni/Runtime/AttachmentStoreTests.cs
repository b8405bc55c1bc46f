using System.Collections.Immutable;
using System.Text;
using System.Text.Json.Nodes;
using Porter.Server.Cni.Runtime;
using Xunit;

namespace Porter.Tests.Server.Cni.Runtime;

public sealed class AttachmentStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly AttachmentStore _cache;

    public AttachmentStoreTests()
    {
        _cache = new AttachmentStore(_dir.Path);
    }

    public void Dispose() => _dir.Dispose();

    private static RecordId Id(string containerId = "1000-abc", string ifName = "eth0", string network = "lan") => new(network, containerId, ifName);

    private static AttachmentRecord Entry(string containerId = "1000-abc", bool complete = true) => new()
    {
        Id = Id(containerId),
        Config = Encoding.UTF8.GetBytes("""{"cniVersion":"1.0.0","name":"lan","plugins":[{"type":"macvlan"}]}"""),
        NetNs = "/proc/4242/ns/net",
        CniArgs = [new("K8S_POD_NAME", "web"), new("B", "2"), new("A", "1")],
        CapabilityArgs = ImmutableDictionary.CreateRange(StringComparer.Ordinal, new KeyValuePair<string, JsonNode>[]
        {
            new("mac", JsonValue.Create("aa:bb:cc:dd:ee:ff")),
            new("ips", new JsonArray("192.168.1.5/24")),
        }),
        ConfigArgs = ImmutableDictionary.CreateRange(StringComparer.Ordinal, new KeyValuePair<string, JsonNode>[]
        {
            new("ips", new JsonArray("192.168.1.5/24")),
        }),
        Result = new JsonObject { ["cniVersion"] = "1.0.0", ["ips"] = new JsonArray(new JsonObject { ["address"] = "192.168.1.5/24" }) },
        Complete = complete,
        Facts = new AttachmentFacts { Uid = 1000, Resource = "lan", NetnsInode = 4026532000UL },
    };

    private static void AssertJson(JsonNode? expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected {expected?.ToJsonString()}\nactual   {actual?.ToJsonString()}");

    [Fact]
    public void Write_then_Read_gives_back_every_field()
    {
        var entry = Entry();
        _cache.Write(entry);

        var read = _cache.Read(new RecordId("lan", "1000-abc", "eth0"));

        Assert.NotNull(read);
        Assert.Equal(Id(), read.Id);
        Assert.Equal(entry.Config, read.Config);
        Assert.Equal("/proc/4242/ns/net", read.NetNs);
        Assert.Equal([new("K8S_POD_NAME", "web"), new("B", "2"), new("A", "1")], read.CniArgs.AsEnumerable());
        Assert.Equal(["ips", "mac"], read.CapabilityArgs.Keys.Order(StringComparer.Ordinal));
        AssertJson(new JsonArray("192.168.1.5/24"), read.CapabilityArgs["ips"]);
        AssertJson(JsonValue.Create("aa:bb:cc:dd:ee:ff"), read.CapabilityArgs["mac"]);
        AssertJson(new JsonArray("192.168.1.5/24"), Assert.Single(read.ConfigArgs).Value);
        AssertJson(entry.Result, read.Result);
        Assert.True(read.Complete);
        Assert.Equal(entry.Facts, read.Facts);
        Assert.Equal(_cache.PathFor(Id()), read.Location);
    }

    [Fact]
    public void The_file_is_libcnis_layout_plus_a_netPorter_object()
    {
        _cache.Write(Entry(complete: false));

        var path = Path.Combine(_dir.Path, "results", "lan-1000-abc-eth0");
        Assert.Equal(path, _cache.PathFor(new RecordId("lan", "1000-abc", "eth0")));
        var json = JsonNode.Parse(File.ReadAllBytes(path))!.AsObject();

        Assert.Equal("cniCacheV1", json["kind"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String(Entry().Config), json["config"]!.GetValue<string>());
        AssertJson(JsonNode.Parse("""[["K8S_POD_NAME","web"],["B","2"],["A","1"]]"""), json["cniArgs"]);
        AssertJson(JsonNode.Parse("""{"uid":1000,"resource":"lan","netnsInode":4026532000,"complete":false,"configArgs":{"ips":["192.168.1.5/24"]}}"""), json["netPorter"]);
    }

    [Theory]
    [InlineData(SubjectKind.Process, 4242, "sleep", "")]
    [InlineData(SubjectKind.Path, 0, "", "")]
    [InlineData(SubjectKind.Netns, 0, "", "web")]
    public void The_subject_of_an_attach_round_trips_and_a_record_without_one_is_a_containers(SubjectKind kind, int pid, string process, string name)
    {
        var entry = Entry() with { Facts = Entry().Facts with { Subject = new AttachmentSubject(kind, pid, process, name) } };
        _cache.Write(entry);

        Assert.Equal(entry.Facts.Subject, _cache.Read(Id())!.Facts.Subject);
        Assert.Equal(kind != SubjectKind.Process, _cache.Read(Id())!.Facts.Subject.LivesWhileMounted);

        _cache.Write(Entry());
        Assert.Equal(AttachmentSubject.Container, _cache.Read(Id())!.Facts.Subject);
        Assert.Null(JsonNode.Parse(File.ReadAllText(_cache.PathFor(Id())))!["netPorter"]!["subject"]);
        Assert.False(AttachmentSubject.Container.LivesWhileMounted);
    }

    [Fact]
    public void A_subject_of_an_unknown_kind_makes_the_record_unreadable()
    {
        _cache.Write(Entry());
        var path = _cache.PathFor(Id());
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        json["netPorter"]!["subject"] = new JsonObject { ["kind"] = "vm" };
        File.WriteAllText(path, json.ToJsonString());

        var e = Assert.Throws<FormatException>(() => _cache.Read(Id()));
        Assert.Contains("\"subject.kind\" is not one of container, process, path, netns: 'vm'", e.Message);
    }

    [Fact]
    public void An_incomplete_entry_stays_incomplete()
    {
        _cache.Write(Entry(complete: false));
        Assert.False(_cache.Read(new RecordId("lan", "1000-abc", "eth0"))!.Complete);
    }

    [Fact]
    public void A_later_Write_replaces_the_entry_and_leaves_no_temporary_file()
    {
        _cache.Write(Entry(complete: false));
        _cache.Write(Entry(complete: true) with { NetNs = "/proc/7/ns/net" });

        var read = _cache.Read(new RecordId("lan", "1000-abc", "eth0"))!;
        Assert.True(read.Complete);
        Assert.Equal("/proc/7/ns/net", read.NetNs);
        Assert.Equal(["lan-1000-abc-eth0"], Directory.EnumerateFileSystemEntries(_cache.ResultsDirectory).Select(Path.GetFileName));
    }

    [Fact]
    public void An_entry_without_result_config_args_or_annotations_round_trips()
    {
        var entry = Entry() with
        {
            Result = null,
            Complete = false,
            ConfigArgs = ImmutableDictionary<string, JsonNode>.Empty,
            CapabilityArgs = ImmutableDictionary<string, JsonNode>.Empty,
            CniArgs = [],
            Facts = new AttachmentFacts(),
        };
        _cache.Write(entry);

        var read = _cache.Read(new RecordId("lan", "1000-abc", "eth0"))!;
        Assert.Null(read.Result);
        Assert.False(read.Complete);
        Assert.Empty(read.ConfigArgs);
        Assert.Empty(read.CapabilityArgs);
        Assert.Empty(read.CniArgs);
        Assert.Equal(new AttachmentFacts(), read.Facts);
    }

    [Fact]
    public void A_libcni_entry_without_netPorter_counts_as_complete_when_it_has_a_result()
    {
        Directory.CreateDirectory(_cache.ResultsDirectory);
        File.WriteAllText(_cache.PathFor(new RecordId("n", "c", "eth1")), """
            {"kind":"cniCacheV1","containerId":"c","config":"e30=","ifName":"eth1","networkName":"n",
             "cniArgs":[["IgnoreUnknown","1"]],"capabilityArgs":{},"result":{"cniVersion":"1.0.0"}}
            """);

        var read = _cache.Read(new RecordId("n", "c", "eth1"))!;
        Assert.True(read.Complete);
        Assert.Equal("", read.NetNs);
        Assert.Equal("{}"u8.ToArray(), read.Config);
        Assert.Equal(new AttachmentFacts(), read.Facts);
        Assert.Equal([new("IgnoreUnknown", "1")], read.CniArgs.AsEnumerable());
    }

    [Fact]
    public void Read_of_a_missing_entry_is_null_even_without_a_results_directory()
    {
        Assert.False(Directory.Exists(_cache.ResultsDirectory));
        Assert.Null(_cache.Read(new RecordId("lan", "1000-abc", "eth0")));

        _cache.Write(Entry());
        Assert.Null(_cache.Read(new RecordId("lan", "1000-abc", "eth1")));
        Assert.Null(_cache.Read(new RecordId("wan", "1000-abc", "eth0")));
    }

    [Fact]
    public void Delete_removes_the_entry_and_tolerates_absence()
    {
        _cache.Delete(new RecordId("lan", "1000-abc", "eth0")); // no directory yet
        _cache.Write(Entry());
        _cache.Write(Entry("1000-def"));

        _cache.Delete(new RecordId("lan", "1000-abc", "eth0"));
        _cache.Delete(new RecordId("lan", "1000-abc", "eth0"));

        Assert.Null(_cache.Read(new RecordId("lan", "1000-abc", "eth0")));
        Assert.NotNull(_cache.Read(new RecordId("lan", "1000-def", "eth0")));
    }

    [Fact]
    public void List_skips_temporary_files_and_reports_unreadable_ones()
    {
        _cache.Write(Entry("1000-bbb"));
        _cache.Write(Entry("1000-aaa"));
        File.WriteAllText(_cache.PathFor(new RecordId("lan", "1000-ccc", "eth0")) + ".tmp-1-0123456789abcdef", "{half");
        var garbage = _cache.PathFor(new RecordId("lan", "1000-ddd", "eth0"));
        File.WriteAllText(garbage, "not json");
        var foreign = _cache.PathFor(new RecordId("lan", "1000-eee", "eth0"));
        File.WriteAllText(foreign, """{"kind":"somethingElse"}""");
        var incomplete = _cache.PathFor(new RecordId("lan", "1000-fff", "eth0"));
        File.WriteAllText(incomplete, """{"kind":"cniCacheV1","containerId":"x"}""");

        var (entries, unreadable) = _cache.List();

        Assert.Equal(["1000-aaa", "1000-bbb"], entries.Select(e => e.Id.ContainerId));
        Assert.Equal([garbage, foreign, incomplete], unreadable.Select(u => u.Path));
        Assert.Equal($"{foreign}: not a cniCacheV1 cache entry", unreadable[1].Problem);
        Assert.Equal($"{incomplete}: \"networkName\" is missing", unreadable[2].Problem);
        Assert.NotEmpty(unreadable[0].Problem);
    }

    [Theory]
    [InlineData("""{"kind":"cniCacheV1","containerId":"c","config":"e30=","ifName":"eth0","networkName":5}""")]
    [InlineData("""{"kind":"cniCacheV1","containerId":"c","config":"e30=","ifName":"eth0","networkName":"n","netPorter":{"complete":"yes"}}""")]
    [InlineData("""{"kind":7}""")]
    public void List_reports_an_entry_with_a_wrongly_typed_field_as_unreadable(string json)
    {
        _cache.Write(Entry());
        var bad = _cache.PathFor(new RecordId("lan", "1000-zzz", "eth0"));
        File.WriteAllText(bad, json);

        var (entries, unreadable) = _cache.List();

        Assert.Single(entries);
        Assert.Equal(bad, Assert.Single(unreadable).Path);
    }

    [Fact]
    public void List_without_a_results_directory_is_empty()
    {
        var (entries, unreadable) = _cache.List();
        Assert.Empty(entries);
        Assert.Empty(unreadable);
    }

    [Fact]
    public void Entries_are_0600_in_a_0700_directory()
    {
        _cache.Write(Entry());

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(_cache.ResultsDirectory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite,
            File.GetUnixFileMode(_cache.PathFor(new RecordId("lan", "1000-abc", "eth0"))));
    }

    [Fact]
    public void Every_fact_round_trips()
    {
        var facts = new AttachmentFacts
        {
            Uid = 1000,
            User = "alice",
            Pid = 4242,
            Resource = "lan",
            ContainerId = "abc",
            ContainerName = "web",
            CallerNetns = "/run/user/1000/netns/netns-1",
            NetnsInode = 4026532000UL,
            BootId = "8f1e0f6c-2b5a-4a57-9d1e-7c1c3e2f6a10",
            Hold = "/var/lib/net-porter/netns/lan-1000-abc-eth0",
            Created = new DateTimeOffset(2026, 12, 2, 3, 4, 5, TimeSpan.Zero),
        };
        _cache.Write(Entry() with { Facts = facts });

        Assert.Equal(facts, _cache.Read(Id())!.Facts);
    }

    [Fact]
    public void A_record_written_by_an_earlier_version_is_read_with_its_facts()
    {
        // Earlier versions wrote every key, empty or not, and "created" as an ISO 8601 string.
        Directory.CreateDirectory(_cache.ResultsDirectory);
        File.WriteAllText(_cache.PathFor(Id()), """
            {"kind":"cniCacheV1","containerId":"1000-abc","config":"e30=","ifName":"eth0","networkName":"lan","netns":"",
             "cniArgs":[],"capabilityArgs":{},"result":{"cniVersion":"1.0.0"},
             "netPorter":{"uid":1000,"user":"alice","pid":77,"resource":"lan","containerId":"abc","containerName":"",
                          "callerNetns":"/run/user/1000/netns/x","netnsInode":4026532001,"bootId":"b","held":"",
                          "created":"2026-11-30T10:00:00.0000000+00:00","complete":true}}
            """);

        var read = _cache.Read(Id())!;

        Assert.True(read.Complete);
        Assert.Equal(new AttachmentFacts
        {
            Uid = 1000,
            User = "alice",
            Pid = 77,
            Resource = "lan",
            ContainerId = "abc",
            CallerNetns = "/run/user/1000/netns/x",
            NetnsInode = 4026532001UL,
            BootId = "b",
            Created = new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero),
        }, read.Facts);
    }

    [Theory]
    [InlineData("""{"netnsInode":"4026532001"}""", "")]
    [InlineData("""{"uid":-1}""", "")]
    [InlineData("""{"created":"yesterday"}""", "\"created\" is not a time: 'yesterday'")]
    public void A_wrongly_typed_fact_makes_the_record_unreadable(string netPorter, string message)
    {
        Directory.CreateDirectory(_cache.ResultsDirectory);
        var path = _cache.PathFor(Id());
        File.WriteAllText(path, $$"""{"kind":"cniCacheV1","containerId":"1000-abc","config":"e30=","ifName":"eth0","networkName":"lan","netPorter":{{netPorter}}}""");

        var e = Assert.Throws<FormatException>(() => _cache.Read(Id()));
        Assert.StartsWith($"{path}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadOrSetAside_moves_an_unreadable_record_aside()
    {
        Directory.CreateDirectory(_cache.ResultsDirectory);
        File.WriteAllText(_cache.PathFor(Id()), "not json");

        Assert.Null(_cache.ReadOrSetAside(Id(), out var unreadable));

        Assert.NotNull(unreadable);
        Assert.False(File.Exists(_cache.PathFor(Id())));
        Assert.Single(Directory.GetFiles(_cache.ResultsDirectory), f => f.Contains(".corrupt-", StringComparison.Ordinal));
        Assert.Null(_cache.ReadOrSetAside(Id(), out var none));
        Assert.Null(none);
    }

    [Fact]
    public void NamesOf_is_built_from_the_directory_and_follows_writes_deletes_and_set_asides()
    {
        _cache.Write(Entry("1000-a") with { Facts = new AttachmentFacts { Uid = 1000 } });
        _cache.Write(Entry("1001-b") with { Id = Id("1001-b"), Facts = new AttachmentFacts { Uid = 1001 } });
        File.WriteAllText(_cache.PathFor(Id("1000-broken")), "not json");
        // A fresh store (a restarted server) builds its index from the files.
        var store = new AttachmentStore(_dir.Path);

        Assert.Equal(["lan-1000-a-eth0"], store.NamesOf(1000).Order(StringComparer.Ordinal));
        Assert.Equal(["lan-1001-b-eth0"], store.NamesOf(1001).Order(StringComparer.Ordinal));

        store.Write(Entry("1000-c") with { Id = Id("1000-c"), Complete = false, Facts = new AttachmentFacts { Uid = 1000 } }, Durability.Replace);
        Assert.Equal(["lan-1000-a-eth0", "lan-1000-c-eth0"], store.NamesOf(1000).Order(StringComparer.Ordinal));

        store.Delete(Id("1000-a"));
        store.Delete(Id("1000-never"));
        Assert.Equal(["lan-1000-c-eth0"], store.NamesOf(1000).Order(StringComparer.Ordinal));

        File.WriteAllText(store.PathFor(Id("1000-c")), "broken since");
        Assert.Null(store.ReadOrSetAside(Id("1000-c"), out _));
        Assert.Empty(store.NamesOf(1000));
        Assert.Empty(store.NamesOf(4242));
    }

    [Fact]
    public void A_replacing_write_leaves_the_same_record_as_a_durable_one()
    {
        _cache.Write(Entry(complete: false), Durability.Durable);
        _cache.Write(Entry(complete: true), Durability.Replace);

        Assert.True(_cache.Read(Id())!.Complete);
        Assert.Equal([_cache.PathFor(Id())], Directory.GetFiles(_cache.ResultsDirectory));
    }
}
