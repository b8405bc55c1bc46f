using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Porter.Server.Cni.Runtime;

/// <summary>
/// A record's bytes: libcni's cniCacheV1 layout, plus a "netPorter" object with <see cref="AttachmentFacts"/> and how
/// far ADD got. Reading is strict (a wrongly typed field makes the record unreadable, and it is set aside) and accepts
/// what earlier versions wrote, so that an upgraded server still tears down what an older one attached.
/// </summary>
internal static class CacheFile
{
    private const string Kind = "cniCacheV1";

    public static byte[] Serialize(AttachmentRecord record)
    {
        var args = new JsonArray();
        foreach (var (k, v) in record.CniArgs)
        {
            args.Add((JsonNode)new JsonArray(k, v));
        }
        var netPorter = FactsToJson(record.Facts);
        netPorter["complete"] = record.Complete;
        if (!record.ConfigArgs.IsEmpty)
        {
            netPorter["configArgs"] = ToObject(record.ConfigArgs);
        }
        var o = new JsonObject
        {
            ["kind"] = Kind,
            ["containerId"] = record.Id.ContainerId,
            ["config"] = Convert.ToBase64String(record.Config),
            ["ifName"] = record.Id.IfName,
            ["networkName"] = record.Id.Network,
            ["netns"] = record.NetNs,
            ["cniArgs"] = args,
            ["capabilityArgs"] = ToObject(record.CapabilityArgs),
        };
        if (record.Result is not null)
        {
            o["result"] = record.Result.DeepClone();
        }
        o["netPorter"] = netPorter;
        return Encoding.UTF8.GetBytes(o.ToJsonString());
    }

    /// <summary>Any malformed content, wrongly typed fields included, surfaces as FormatException.</summary>
    public static AttachmentRecord Deserialize(byte[] bytes, string path)
    {
        try
        {
            return DeserializeUnchecked(bytes, path);
        }
        catch (Exception e) when (e is InvalidOperationException or JsonException or ArgumentException or OverflowException
            || (e is FormatException && !e.Message.StartsWith($"{path}: ", StringComparison.Ordinal)))
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    private static AttachmentRecord DeserializeUnchecked(byte[] bytes, string path)
    {
        var node = JsonNode.Parse(bytes) as JsonObject ?? throw new FormatException($"{path}: not a JSON object");
        if (node["kind"]?.GetValue<string>() != Kind)
        {
            throw new FormatException($"{path}: not a {Kind} cache entry");
        }
        string Str(string key) => node[key]?.GetValue<string>() ?? throw new FormatException($"{path}: \"{key}\" is missing");
        var args = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        if (node["cniArgs"] is JsonArray pairs)
        {
            foreach (var pair in pairs)
            {
                if (pair is JsonArray { Count: 2 } kv)
                {
                    args.Add(new(kv[0]!.GetValue<string>(), kv[1]!.GetValue<string>()));
                }
            }
        }
        var netPorter = node["netPorter"] as JsonObject ?? [];
        return new AttachmentRecord
        {
            Id = new RecordId(Str("networkName"), Str("containerId"), Str("ifName")),
            Config = Convert.FromBase64String(Str("config")),
            NetNs = node["netns"]?.GetValue<string>() ?? "",
            CniArgs = args.ToImmutable(),
            CapabilityArgs = FromObject(node["capabilityArgs"] as JsonObject),
            ConfigArgs = FromObject(netPorter["configArgs"] as JsonObject),
            Result = node["result"]?.DeepClone() as JsonObject,
            // A plain libcni entry (no netPorter object) is complete when it has a result.
            Complete = netPorter["complete"]?.GetValue<bool>() ?? node["result"] is not null,
            Facts = FactsFromJson(netPorter, path),
            Location = path,
        };
    }

    private static JsonObject FactsToJson(AttachmentFacts facts)
    {
        var o = new JsonObject();
        if (facts.Uid is { } uid)
        {
            o["uid"] = uid;
        }
        void Text(string key, string value)
        {
            if (value.Length > 0)
            {
                o[key] = value;
            }
        }
        Text("user", facts.User);
        if (facts.Pid != 0)
        {
            o["pid"] = facts.Pid;
        }
        Text("resource", facts.Resource);
        Text("containerId", facts.ContainerId);
        Text("containerName", facts.ContainerName);
        Text("callerNetns", facts.CallerNetns);
        if (facts.NetnsInode is { } inode)
        {
            o["netnsInode"] = inode;
        }
        Text("bootId", facts.BootId);
        Text("held", facts.Hold);
        if (facts.Created is { } created)
        {
            o["created"] = created.ToString("O", CultureInfo.InvariantCulture);
        }
        if (facts.Subject.Kind != SubjectKind.Container)
        {
            var subject = new JsonObject { ["kind"] = facts.Subject.KindName };
            if (facts.Subject.Pid != 0)
            {
                subject["pid"] = facts.Subject.Pid;
            }
            if (facts.Subject.ProcessName.Length > 0)
            {
                subject["process"] = facts.Subject.ProcessName;
            }
            if (facts.Subject.NetnsName.Length > 0)
            {
                subject["netnsName"] = facts.Subject.NetnsName;
            }
            o["subject"] = subject;
        }
        return o;
    }

    private static AttachmentFacts FactsFromJson(JsonObject o, string path)
    {
        string Text(string key) => o[key]?.GetValue<string>() ?? "";
        return new AttachmentFacts
        {
            Uid = o["uid"]?.GetValue<uint>(),
            User = Text("user"),
            Pid = o["pid"]?.GetValue<int>() ?? 0,
            Resource = Text("resource"),
            ContainerId = Text("containerId"),
            ContainerName = Text("containerName"),
            CallerNetns = Text("callerNetns"),
            NetnsInode = o["netnsInode"]?.GetValue<ulong>(),
            BootId = Text("bootId"),
            Hold = Text("held"),
            Created = Text("created") switch
            {
                "" => null,
                var text when DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var created) => created,
                var text => throw new FormatException($"{path}: \"created\" is not a time: '{text}'"),
            },
            // Records written before attach existed have no subject: they are containers.
            Subject = o["subject"] switch
            {
                null => AttachmentSubject.Container,
                JsonObject s => new AttachmentSubject(
                    AttachmentSubject.ParseKind(s["kind"]?.GetValue<string>() ?? ""),
                    s["pid"]?.GetValue<int>() ?? 0,
                    s["process"]?.GetValue<string>() ?? "",
                    s["netnsName"]?.GetValue<string>() ?? ""),
                _ => throw new FormatException($"{path}: \"subject\" is not an object"),
            },
        };
    }

    private static JsonObject ToObject(ImmutableDictionary<string, JsonNode> values)
    {
        var o = new JsonObject();
        foreach (var (k, v) in values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            o[k] = v.DeepClone();
        }
        return o;
    }

    private static ImmutableDictionary<string, JsonNode> FromObject(JsonObject? o) =>
        o is null
            ? ImmutableDictionary<string, JsonNode>.Empty
            : o.Where(kv => kv.Value is not null).ToImmutableDictionary(kv => kv.Key, kv => kv.Value!.DeepClone(), StringComparer.Ordinal);
}
