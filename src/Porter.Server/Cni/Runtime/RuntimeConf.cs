using System.Collections.Immutable;
using System.Text.Json.Nodes;

namespace Porter.Server.Cni.Runtime;

/// <summary>
/// Everything per attachment that is not in the network configuration (libcni's RuntimeConf).
/// Values here have been validated; they go into environment variables and plugin stdin as they are.
/// </summary>
public sealed record RuntimeConf
{
    public required string ContainerId { get; init; }
    /// <summary>The netns path plugins open; "" on DEL when the namespace is gone.</summary>
    public required string NetNs { get; init; }
    public required string IfName { get; init; }
    /// <summary>CNI_ARGS pairs, in order (IgnoreUnknown=1 is added by the runtime).</summary>
    public ImmutableArray<KeyValuePair<string, string>> Args { get; init; } = [];
    /// <summary>Capability values (ips, mac, portMappings, bandwidth ...), given to plugins that declare the capability.</summary>
    public ImmutableDictionary<string, JsonNode> CapabilityArgs { get; init; } = ImmutableDictionary<string, JsonNode>.Empty;
    /// <summary>Values for "args":{"cni":{...}} of the main plugin (e.g. ips when it declares no capability).</summary>
    public ImmutableDictionary<string, JsonNode> ConfigArgs { get; init; } = ImmutableDictionary<string, JsonNode>.Empty;

    /// <summary>CNI_ARGS as plugins read it: "IgnoreUnknown=1" first, because every plugin in a chain sees all keys.</summary>
    public string FormatCniArgs() =>
        string.Join(';', new[] { "IgnoreUnknown=1" }.Concat(Args.Select(kv => $"{kv.Key}={kv.Value}")));
}
