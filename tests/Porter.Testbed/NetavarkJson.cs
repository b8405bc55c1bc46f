using System.Text.Json.Nodes;

namespace Porter.Testbed;

/// <summary>
/// The JSON netavark and podman hand a plugin, in both shapes seen in the wild: netavark 1.6 writes absent
/// optional fields as null, netavark 2.x leaves them out.
/// </summary>
public static class NetavarkJson
{
    public sealed record Subnet(string Cidr, string? Gateway = null);

    public static JsonObject Network(string name, string resource, string? socket, IReadOnlyList<Subnet>? subnets = null,
        string? ipamDriver = null, bool legacyNulls = false)
    {
        var options = new JsonObject { ["resource"] = resource };
        if (socket is not null)
        {
            options["socket"] = socket;
        }
        var network = new JsonObject
        {
            ["name"] = name,
            ["id"] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name))).ToLowerInvariant(),
            ["driver"] = "net-porter",
            ["internal"] = false,
            ["ipv6_enabled"] = false,
            ["dns_enabled"] = false,
            ["options"] = options,
        };
        if (subnets is { Count: > 0 })
        {
            network["subnets"] = new JsonArray([.. subnets.Select(s =>
            {
                var o = new JsonObject { ["subnet"] = s.Cidr };
                if (s.Gateway is not null)
                {
                    o["gateway"] = s.Gateway;
                }
                else if (legacyNulls)
                {
                    o["gateway"] = null;
                }
                if (legacyNulls)
                {
                    o["lease_range"] = null;
                }
                return (JsonNode)o;
            })]);
        }
        else if (legacyNulls)
        {
            network["subnets"] = null;
        }
        if (ipamDriver is not null)
        {
            network["ipam_options"] = new JsonObject { ["driver"] = ipamDriver };
        }
        else if (legacyNulls)
        {
            network["ipam_options"] = null;
        }
        if (legacyNulls)
        {
            network["network_interface"] = null;
            network["network_dns_servers"] = null;
        }
        return network;
    }

    public static string Exec(JsonObject network, string containerId, string containerName, string interfaceName = "eth0",
        IReadOnlyList<string>? staticIps = null, string? staticMac = null, JsonArray? portMappings = null, bool legacyNulls = false)
    {
        var options = new JsonObject { ["interface_name"] = interfaceName };
        if (staticIps is { Count: > 0 })
        {
            options["static_ips"] = new JsonArray([.. staticIps.Select(ip => (JsonNode)JsonValue.Create(ip))]);
        }
        else if (legacyNulls)
        {
            options["static_ips"] = null;
        }
        if (staticMac is not null)
        {
            options["static_mac"] = staticMac;
        }
        else if (legacyNulls)
        {
            options["static_mac"] = null;
        }
        if (legacyNulls)
        {
            options["aliases"] = null;
        }
        var exec = new JsonObject
        {
            ["container_id"] = containerId,
            ["container_name"] = containerName,
            ["network"] = network.DeepClone(),
            ["network_options"] = options,
        };
        if (portMappings is not null)
        {
            exec["port_mappings"] = portMappings.DeepClone();
        }
        else if (legacyNulls)
        {
            exec["port_mappings"] = null;
        }
        return exec.ToJsonString();
    }

    /// <summary>A podman-style 64-hex container id.</summary>
    public static string NewContainerId() => Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
}
