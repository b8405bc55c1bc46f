using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Porter.Server.Native;

namespace Porter.Server.Cni.Runtime;

/// <summary>
/// One cached attachment in libcni's cniCacheV1 layout (so standard tools can read it), plus a "netPorter"
/// object with what the server needs on top: who owns it and how far setup got.
/// </summary>
public sealed record CacheEntry
{
    public required string NetworkName { get; init; }
    public required string ContainerId { get; init; }
    public required string IfName { get; init; }
    public required byte[] Config { get; init; }
    public required string NetNs { get; init; }
    public required ImmutableArray<KeyValuePair<string, string>> CniArgs { get; init; }
    public required ImmutableDictionary<string, JsonNode> CapabilityArgs { get; init; }
    public ImmutableDictionary<string, JsonNode> ConfigArgs { get; init; } = ImmutableDictionary<string, JsonNode>.Empty;
    /// <summary>The latest result: the final ADD result, or the last plugin's result while ADD is under way.</summary>
    public JsonObject? Result { get; init; }
    /// <summary>True once every plugin of the list succeeded.</summary>
    public bool Complete { get; init; }
    /// <summary>Server-owned facts about the attachment (owner uid, caller's netns path, ...).</summary>
    public JsonObject Annotations { get; init; } = [];

    /// <summary>The record's file name (<see cref="ResultCache.NameFor"/>).</summary>
    public string Name => ResultCache.NameFor(NetworkName, ContainerId, IfName);

    public RuntimeConf ToRuntimeConf(string netns) => new()
    {
        ContainerId = ContainerId,
        NetNs = netns,
        IfName = IfName,
        Args = CniArgs,
        CapabilityArgs = CapabilityArgs,
        ConfigArgs = ConfigArgs,
    };
}

/// <summary>
/// The runtime's on-disk record of attachments: &lt;dir&gt;/results/&lt;network&gt;-&lt;containerId&gt;-&lt;ifName&gt;, 0600 in 0700
/// directories, replaced atomically (write, fsync, rename, fsync directory) so a crash leaves the old or the new
/// record, never half of one.
/// </summary>
public sealed class ResultCache
{
    private const string Kind = "cniCacheV1";

    public ResultCache(string directory)
    {
        ResultsDirectory = Path.Combine(directory, "results");
    }

    public string ResultsDirectory { get; }

    /// <summary>The record's file name, libcni's &lt;network&gt;-&lt;containerId&gt;-&lt;ifName&gt;.</summary>
    public static string NameFor(string networkName, string containerId, string ifName) => $"{networkName}-{containerId}-{ifName}";

    public string PathFor(string networkName, string containerId, string ifName) =>
        Path.Combine(ResultsDirectory, NameFor(networkName, containerId, ifName));

    public void Write(CacheEntry entry)
    {
        Directory.CreateDirectory(ResultsDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = PathFor(entry.NetworkName, entry.ContainerId, entry.IfName);
        var temp = $"{path}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        var bytes = Encoding.UTF8.GetBytes(Serialize(entry).ToJsonString());
        try
        {
            using (var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        SyncDirectory(ResultsDirectory);
    }

    public CacheEntry? Read(string networkName, string containerId, string ifName)
    {
        var path = PathFor(networkName, containerId, ifName);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        return Deserialize(bytes, path);
    }

    /// <summary>
    /// The record as it is now, or null when there is none; an unreadable one is moved aside (it must block nothing)
    /// and what was wrong with it is returned in <paramref name="unreadable"/>.
    /// </summary>
    public CacheEntry? ReadOrSetAside(string networkName, string containerId, string ifName, out string? unreadable)
    {
        unreadable = null;
        try
        {
            return Read(networkName, containerId, ifName);
        }
        catch (FormatException e)
        {
            Quarantine(PathFor(networkName, containerId, ifName));
            unreadable = e.Message;
            return null;
        }
    }

    public void Delete(string networkName, string containerId, string ifName)
    {
        if (!Directory.Exists(ResultsDirectory))
        {
            return;
        }
        File.Delete(PathFor(networkName, containerId, ifName));
        SyncDirectory(ResultsDirectory);
    }

    /// <summary>Moves an unreadable record aside (kept for inspection) so that it blocks nothing; false if it is already gone.</summary>
    public bool Quarantine(string path)
    {
        var target = $"{path}.corrupt-{DateTime.UtcNow:yyyyMMddHHmmss}";
        try
        {
            File.Move(path, target, overwrite: true);
            return true;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Every readable entry, with the files that could not be read reported separately. A record removed while the
    /// directory is read (a teardown finished) is simply not listed. Entries are a snapshot: whoever acts on one reads
    /// it again under the attachment's lock.
    /// </summary>
    public (IReadOnlyList<CacheEntry> Entries, IReadOnlyList<(string Path, string Problem)> Unreadable) List()
    {
        var entries = new List<CacheEntry>();
        var unreadable = new List<(string, string)>();
        if (!Directory.Exists(ResultsDirectory))
        {
            return (entries, unreadable);
        }
        foreach (var file in Directory.EnumerateFiles(ResultsDirectory).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(file).Contains(".tmp-", StringComparison.Ordinal) || Path.GetFileName(file).Contains(".corrupt-", StringComparison.Ordinal))
            {
                continue;
            }
            try
            {
                entries.Add(Deserialize(File.ReadAllBytes(file), file));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // gone since the directory was read
            }
            catch (Exception e) when (e is IOException or FormatException or JsonException)
            {
                unreadable.Add((file, e.Message));
            }
        }
        return (entries, unreadable);
    }

    private static JsonObject Serialize(CacheEntry entry)
    {
        var args = new JsonArray();
        foreach (var (k, v) in entry.CniArgs)
        {
            args.Add(new JsonArray(k, v));
        }
        var netPorter = entry.Annotations.DeepClone().AsObject();
        netPorter["complete"] = entry.Complete;
        if (!entry.ConfigArgs.IsEmpty)
        {
            netPorter["configArgs"] = ToObject(entry.ConfigArgs);
        }
        var o = new JsonObject
        {
            ["kind"] = Kind,
            ["containerId"] = entry.ContainerId,
            ["config"] = Convert.ToBase64String(entry.Config),
            ["ifName"] = entry.IfName,
            ["networkName"] = entry.NetworkName,
            ["netns"] = entry.NetNs,
            ["cniArgs"] = args,
            ["capabilityArgs"] = ToObject(entry.CapabilityArgs),
        };
        if (entry.Result is not null)
        {
            o["result"] = entry.Result.DeepClone();
        }
        o["netPorter"] = netPorter;
        return o;
    }

    /// <summary>Any malformed content, wrongly typed fields included, surfaces as FormatException.</summary>
    private static CacheEntry Deserialize(byte[] bytes, string path)
    {
        try
        {
            return DeserializeUnchecked(bytes, path);
        }
        catch (Exception e) when (e is InvalidOperationException or JsonException or ArgumentException)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    private static CacheEntry DeserializeUnchecked(byte[] bytes, string path)
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
        var complete = netPorter["complete"]?.GetValue<bool>() ?? node["result"] is not null;
        var configArgs = FromObject(netPorter["configArgs"] as JsonObject);
        netPorter = netPorter.DeepClone().AsObject();
        netPorter.Remove("complete");
        netPorter.Remove("configArgs");
        return new CacheEntry
        {
            NetworkName = Str("networkName"),
            ContainerId = Str("containerId"),
            IfName = Str("ifName"),
            Config = Convert.FromBase64String(Str("config")),
            NetNs = node["netns"]?.GetValue<string>() ?? "",
            CniArgs = args.ToImmutable(),
            CapabilityArgs = FromObject(node["capabilityArgs"] as JsonObject),
            ConfigArgs = configArgs,
            Result = node["result"]?.DeepClone() as JsonObject,
            Complete = complete,
            Annotations = netPorter,
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

    private static void SyncDirectory(string directory)
    {
        var fd = Libc.Open(directory, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return;
        }
        Libc.Fsync(fd);
        Libc.Close(fd);
    }
}
