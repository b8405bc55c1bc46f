using System.Net;
using System.Text.Json.Nodes;
using Google.Protobuf.Collections;
using Porter.Protocol.V1;

namespace Porter.Server.Attachments;

/// <summary>
/// netavark's port mappings ({container_port, host_port, range, protocol "tcp,udp", host_ip}) expanded into the
/// portMappings capability's one-entry-per-port-and-protocol form, as podman's CNI backend did.
/// </summary>
public static class PortMappings
{
    public const int MaxExpandedEntries = 4096;
    private static readonly string[] Protocols = ["tcp", "udp", "sctp"];

    public static JsonArray Expand(RepeatedField<PortMapping> mappings)
    {
        var result = new JsonArray();
        foreach (var m in mappings)
        {
            var range = m.Range == 0 ? 1L : m.Range;
            if (m.ContainerPort is 0 or > 65535 || m.HostPort > 65535 || m.ContainerPort + range - 1 > 65535 || m.HostPort + range - 1 > 65535)
            {
                throw RequestValidator.Invalid(
                    $"port_mappings: container port {m.ContainerPort}, host port {m.HostPort} and range {range} go beyond 1-65535");
            }
            // Strict, as every address a caller names: "1" or "010.1.1.1" would reach portmap as something else.
            if (m.HostIp.Length > 0 && !Net.IpAddresses.TryParse(m.HostIp, out _))
            {
                throw RequestValidator.Invalid($"port_mappings: host_ip '{m.HostIp}' is not an IP address");
            }
            var protocols = m.Protocol.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (protocols.Length == 0)
            {
                protocols = ["tcp"];
            }
            foreach (var protocol in protocols)
            {
                var p = protocol.ToLowerInvariant();
                if (!Protocols.Contains(p))
                {
                    throw RequestValidator.Invalid($"port_mappings: unknown protocol '{protocol}' (tcp, udp or sctp)");
                }
                for (var i = 0u; i < (uint)range; i++)
                {
                    if (result.Count >= MaxExpandedEntries)
                    {
                        throw RequestValidator.Invalid($"port_mappings: more than {MaxExpandedEntries} ports");
                    }
                    var entry = new JsonObject
                    {
                        ["hostPort"] = (int)(m.HostPort + i),
                        ["containerPort"] = (int)(m.ContainerPort + i),
                        ["protocol"] = p,
                    };
                    if (m.HostIp.Length > 0)
                    {
                        entry["hostIP"] = m.HostIp;
                    }
                    result.Add((JsonNode)entry);
                }
            }
        }
        return result;
    }
}
