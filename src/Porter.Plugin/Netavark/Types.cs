using System.Text.Json.Serialization;

namespace Porter.Plugin.Netavark;

// netavark's wire types (src/network/types.rs), as far as net-porter reads them. Optional fields may be
// absent (netavark >= 2.0) or null (1.6); both deserialize to null here. Unknown fields are ignored, as serde does.
// Null is refused everywhere else, as serde refuses it: in a required field, and inside lists and maps (checked in
// OnDeserialized, since System.Text.Json does not check element types), where protobuf would throw on it later.

public sealed class Network : IJsonOnDeserialized
{
    [JsonPropertyName("name"), JsonRequired] public string Name { get; set; } = "";
    [JsonPropertyName("id"), JsonRequired] public string Id { get; set; } = "";
    [JsonPropertyName("driver"), JsonRequired] public string Driver { get; set; } = "";
    [JsonPropertyName("network_interface")] public string? NetworkInterface { get; set; }
    [JsonPropertyName("internal")] public bool Internal { get; set; }
    [JsonPropertyName("ipv6_enabled")] public bool Ipv6Enabled { get; set; }
    [JsonPropertyName("dns_enabled")] public bool DnsEnabled { get; set; }
    [JsonPropertyName("options")] public Dictionary<string, string>? Options { get; set; }
    [JsonPropertyName("ipam_options")] public Dictionary<string, string>? IpamOptions { get; set; }
    [JsonPropertyName("subnets")] public List<Subnet>? Subnets { get; set; }
    [JsonPropertyName("network_dns_servers")] public List<string>? NetworkDnsServers { get; set; }

    void IJsonOnDeserialized.OnDeserialized()
    {
        NoNulls.In(Options?.Values, "options");
        NoNulls.In(IpamOptions?.Values, "ipam_options");
        NoNulls.In(Subnets, "subnets");
        NoNulls.In(NetworkDnsServers, "network_dns_servers");
    }
}

public sealed class Subnet
{
    [JsonPropertyName("subnet"), JsonRequired] public string Value { get; set; } = "";
    [JsonPropertyName("gateway")] public string? Gateway { get; set; }
    [JsonPropertyName("lease_range")] public LeaseRange? LeaseRange { get; set; }
}

public sealed class LeaseRange
{
    [JsonPropertyName("start_ip")] public string? StartIp { get; set; }
    [JsonPropertyName("end_ip")] public string? EndIp { get; set; }
}

/// <summary>stdin of "setup" and "teardown".</summary>
public sealed class NetworkPluginExec : IJsonOnDeserialized
{
    [JsonPropertyName("container_id"), JsonRequired] public string ContainerId { get; set; } = "";
    [JsonPropertyName("container_name"), JsonRequired] public string ContainerName { get; set; } = "";
    [JsonPropertyName("port_mappings")] public List<PortMapping>? PortMappings { get; set; }
    [JsonPropertyName("network"), JsonRequired] public Network Network { get; set; } = new();
    [JsonPropertyName("network_options"), JsonRequired] public PerNetworkOptions NetworkOptions { get; set; } = new();

    void IJsonOnDeserialized.OnDeserialized() => NoNulls.In(PortMappings, "port_mappings");
}

public sealed class PerNetworkOptions : IJsonOnDeserialized
{
    [JsonPropertyName("interface_name"), JsonRequired] public string InterfaceName { get; set; } = "";
    [JsonPropertyName("aliases")] public List<string>? Aliases { get; set; }
    [JsonPropertyName("static_ips")] public List<string>? StaticIps { get; set; }
    [JsonPropertyName("static_mac")] public string? StaticMac { get; set; }
    [JsonPropertyName("options")] public Dictionary<string, string>? Options { get; set; }

    void IJsonOnDeserialized.OnDeserialized()
    {
        NoNulls.In(Aliases, "aliases");
        NoNulls.In(StaticIps, "static_ips");
        NoNulls.In(Options?.Values, "options");
    }
}

public sealed class PortMapping
{
    [JsonPropertyName("container_port"), JsonRequired] public ushort ContainerPort { get; set; }
    [JsonPropertyName("host_ip"), JsonRequired] public string HostIp { get; set; } = "";
    [JsonPropertyName("host_port"), JsonRequired] public ushort HostPort { get; set; }
    [JsonPropertyName("protocol"), JsonRequired] public string Protocol { get; set; } = "";
    [JsonPropertyName("range"), JsonRequired] public ushort Range { get; set; }
}

internal static class NoNulls
{
    public static void In<T>(IEnumerable<T?>? values, string field)
    {
        if (values is not null && values.Any(v => v is null))
        {
            throw new System.Text.Json.JsonException($"'{field}' holds a null value");
        }
    }
}

[JsonSourceGenerationOptions(
    AllowDuplicateProperties = false,
    RespectNullableAnnotations = true,
    AllowTrailingCommas = false,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    MaxDepth = 32)]
[JsonSerializable(typeof(Network))]
[JsonSerializable(typeof(NetworkPluginExec))]
internal sealed partial class NetavarkJsonContext : JsonSerializerContext;
