using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Porter.Server.Cni.Config;

/// <summary>
/// One CNI network: a configuration list (a single-plugin .conf is treated as a one-element list).
/// <see cref="Bytes"/> is the normalised list exactly as it is executed and cached.
/// </summary>
public sealed record NetworkConfigList
{
    public required string Name { get; init; }
    public required string CniVersion { get; init; }
    /// <summary>Spec 1.1 "cniVersions": further versions the list is written for.</summary>
    public required ImmutableArray<string> CniVersions { get; init; }
    public required bool DisableCheck { get; init; }
    public required ImmutableArray<PluginConfig> Plugins { get; init; }
    public required byte[] Bytes { get; init; }
    public required string SourcePath { get; init; }

    public PluginConfig MainPlugin => Plugins[0];

    /// <summary>DHCP leases are kept by a daemon, from inside the container's namespace, for the attachment's lifetime.</summary>
    public bool UsesDhcp => Plugins.Any(p => p.IpamType == "dhcp");

    /// <summary>Rebuilds a list from cached bytes (teardown uses exactly what setup ran).</summary>
    public static NetworkConfigList FromBytes(byte[] bytes, string sourcePath) =>
        NetworkConfigLoader.ParseList(bytes, sourcePath, expectedName: null, options: null);
}

/// <summary>One plugin object of a list. <see cref="Json"/> keeps every key, known or not, for the plugin to read.</summary>
public sealed record PluginConfig(string Type, string? IpamType, ImmutableDictionary<string, bool> Capabilities, JsonElement Json)
{
    public bool HasCapability(string name) => Capabilities.TryGetValue(name, out var on) && on;

    public JsonObject ToJsonObject() => JsonNode.Parse(Json.GetRawText())!.AsObject();
}
