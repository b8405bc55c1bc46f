using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Porter.Server.Cni.Types;
using Porter.Server.Json;

namespace Porter.Server.Cni.Config;

/// <summary>What loading adds to every network so that net-porter's state stays private to it.</summary>
public sealed record CniLoadOptions(string HostLocalDataDir, string DhcpSocketPath = "");

/// <summary>
/// Loads a directory of CNI configurations: standard .conflist and .conf files, and the original net-porter
/// &lt;resource&gt;.json files (either form). Networks are keyed by their "name".
/// </summary>
public static class NetworkConfigLoader
{
    private static readonly string[] Extensions = [".conflist", ".conf", ".json"];

    public static ImmutableDictionary<string, NetworkConfigList> LoadDirectory(string directory, CniLoadOptions options)
    {
        if (!Directory.Exists(directory))
        {
            throw new ConfigException(directory, null, null, null, "the CNI configuration directory does not exist");
        }
        var files = Directory.EnumerateFiles(directory)
            .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.Ordinal) && !Path.GetFileName(f).StartsWith('.'))
            .Order(StringComparer.Ordinal);
        var result = ImmutableDictionary.CreateBuilder<string, NetworkConfigList>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ConfigException(file, null, null, null, $"cannot read: {e.Message}", e);
            }
            // The original README names a .json file after its resource; standard files may be called anything.
            var expected = Path.GetExtension(file) == ".json" ? Path.GetFileNameWithoutExtension(file) : null;
            var list = ParseList(bytes, file, expected, options);
            if (result.TryGetValue(list.Name, out var earlier))
            {
                throw new ConfigException(file, null, null, "name",
                    $"network '{list.Name}' is already defined in {earlier.SourcePath}");
            }
            result[list.Name] = list;
        }
        return result.ToImmutable();
    }

    public static NetworkConfigList ParseList(byte[] bytes, string sourcePath, string? expectedName, CniLoadOptions? options)
    {
        using var source = JsonSource.Parse(sourcePath, bytes);
        var root = source.Root;
        root.RequireKind(JsonValueKind.Object);

        ConfigNode nameNode;
        string cniVersionText;
        ConfigNode versionNode;
        var cniVersions = ImmutableArray<string>.Empty;
        var disableCheck = false;
        List<ConfigNode> pluginNodes;

        if (root.Get("plugins") is { } plugins)
        {
            nameNode = root.Get("name") ?? throw root.Error("a configuration list needs a \"name\"");
            versionNode = root.Get("cniVersion") ?? throw root.Error("a configuration list needs a \"cniVersion\"");
            cniVersionText = versionNode.AsString();
            if (root.Get("cniVersions") is { } versions)
            {
                cniVersions = [.. versions.Items().Select(v => RequireVersion(v, v.AsString()).ToString())];
            }
            disableCheck = root.Get("disableCheck") is { } dc && ReadLooseBool(dc);
            pluginNodes = plugins.Items().ToList();
            if (pluginNodes.Count == 0)
            {
                throw plugins.Error("the list has no plugins");
            }
        }
        else if (root.Get("type") is not null)
        {
            // A single-plugin .conf: libcni wraps it as a one-element list.
            nameNode = root.Get("name") ?? throw root.Error("a network configuration needs a \"name\"");
            versionNode = root.Get("cniVersion") ?? throw root.Error("a network configuration needs a \"cniVersion\"");
            cniVersionText = versionNode.AsString();
            pluginNodes = [root];
        }
        else
        {
            throw root.Error("neither a configuration list (no \"plugins\") nor a single plugin configuration (no \"type\")");
        }

        var name = nameNode.AsString();
        if (CniNames.ValidateNetworkName(name, CniNames.MaxNetworkNameLength) is { } nameProblem)
        {
            throw nameNode.Error(nameProblem);
        }
        if (expectedName is not null && name != expectedName)
        {
            throw nameNode.Error($"the network is named '{name}', but a .json file must be named after its network ('{name}.json')");
        }
        RequireVersion(versionNode, cniVersionText);

        var parsedPlugins = ImmutableArray.CreateBuilder<PluginConfig>();
        var normalizedPlugins = new JsonArray();
        foreach (var pluginNode in pluginNodes)
        {
            var (plugin, normalized) = ParsePlugin(pluginNode, options);
            parsedPlugins.Add(plugin);
            normalizedPlugins.Add((JsonNode)normalized);
        }

        var list = new JsonObject
        {
            ["cniVersion"] = cniVersionText,
            ["name"] = name,
        };
        if (!cniVersions.IsEmpty)
        {
            list["cniVersions"] = new JsonArray([.. cniVersions.Select(v => (JsonNode)JsonValue.Create(v))]);
        }
        if (disableCheck)
        {
            list["disableCheck"] = true;
        }
        list["plugins"] = normalizedPlugins;
        var normalizedBytes = System.Text.Encoding.UTF8.GetBytes(list.ToJsonString());

        // Re-read the normalised plugins so each PluginConfig's JSON is what will run.
        using var normalizedDoc = JsonDocument.Parse(normalizedBytes);
        var finalPlugins = parsedPlugins.Select((p, i) =>
            p with { Json = normalizedDoc.RootElement.GetProperty("plugins")[i].Clone() });

        return new NetworkConfigList
        {
            Name = name,
            CniVersion = cniVersionText,
            CniVersions = cniVersions,
            DisableCheck = disableCheck,
            Plugins = [.. finalPlugins],
            Bytes = normalizedBytes,
            SourcePath = sourcePath,
        };
    }

    private static (PluginConfig Plugin, JsonObject Normalized) ParsePlugin(ConfigNode node, CniLoadOptions? options)
    {
        node.RequireKind(JsonValueKind.Object);
        var typeNode = node.Get("type") ?? throw node.Error("a plugin needs a \"type\"");
        var type = typeNode.AsString();
        if (!CniNames.IsValidPluginType(type))
        {
            throw typeNode.Error($"{CniNames.Quote(type)} is not a valid plugin type (a file name in the plugin directory)");
        }
        var capabilities = ImmutableDictionary.CreateBuilder<string, bool>(StringComparer.Ordinal);
        if (node.Get("capabilities") is { } caps)
        {
            caps.RequireKind(JsonValueKind.Object);
            foreach (var property in caps.Element.EnumerateObject())
            {
                capabilities[property.Name] = caps.Get(property.Name)?.AsBool() ?? false;
            }
        }
        string? ipamType = null;
        var normalized = JsonSource.CopyObject(node.Element);
        if (node.Get("ipam") is { } ipam)
        {
            ipam.RequireKind(JsonValueKind.Object);
            // "ipam": {} means "no IPAM" to the plugins; only a present type names a plugin to run.
            if (ipam.Get("type") is { } ipamTypeNode)
            {
                ipamType = ipamTypeNode.AsString();
                if (!CniNames.IsValidPluginType(ipamType))
                {
                    throw ipamTypeNode.Error($"{CniNames.Quote(ipamType)} is not a valid IPAM plugin type");
                }
            }
            if (options is not null && ipamType == "host-local" && ipam.Get("dataDir") is null)
            {
                // Keep allocations out of /var/lib/cni, which podman's legacy CNI backend also uses.
                normalized["ipam"]!["dataDir"] = options.HostLocalDataDir;
            }
            if (options is { DhcpSocketPath.Length: > 0 } && ipamType == "dhcp" && ipam.Get("daemonSocketPath") is null)
            {
                // The server runs its own DHCP daemon; nothing needs to be set up by the administrator.
                normalized["ipam"]!["daemonSocketPath"] = options.DhcpSocketPath;
            }
        }
        return (new PluginConfig(type, ipamType, capabilities.ToImmutable(), default), normalized);
    }

    private static CniVersion RequireVersion(ConfigNode node, string text)
    {
        if (!CniVersion.TryParse(text, out var version))
        {
            throw node.Error($"{CniNames.Quote(text)} is not a CNI version (expected e.g. \"1.0.0\")");
        }
        if (version < CniVersion.MinimumSupported)
        {
            throw node.Error($"cniVersion {text} is too old: net-porter needs {CniVersion.MinimumSupported} or later");
        }
        return version;
    }

    /// <summary>libcni accepts disableCheck as a JSON bool or as the strings "true"/"false".</summary>
    private static bool ReadLooseBool(ConfigNode node) => node.Kind switch
    {
        JsonValueKind.String when node.AsString() is "true" => true,
        JsonValueKind.String when node.AsString() is "false" => false,
        _ => node.AsBool(),
    };
}
