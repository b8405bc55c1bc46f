using System.Collections.Immutable;
using System.Net;
using System.Text.Json.Nodes;
using Porter.Protocol.V1;
using Porter.Server.Cni.Config;
using Porter.Server.Drivers;

namespace Porter.Server.Attachments;

/// <summary>
/// How a setup request's addressing wishes reach the plugins: as runtimeConfig where a plugin declares the
/// capability (the libcni way), otherwise the way Debian's 1.1.1 plugins also accept (args.cni.ips, CNI_ARGS MAC).
/// </summary>
public sealed record AttachmentPlan(
    ImmutableArray<KeyValuePair<string, string>> CniArgs,
    ImmutableDictionary<string, JsonNode> CapabilityArgs,
    ImmutableDictionary<string, JsonNode> ConfigArgs)
{
    public static AttachmentPlan For(NetworkConfigList network, NetworkKind kind, SetupRequest request, uint uid)
    {
        var main = network.MainPlugin;
        var cniArgs = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        var capabilities = ImmutableDictionary.CreateBuilder<string, JsonNode>(StringComparer.Ordinal);
        var configArgs = ImmutableDictionary.CreateBuilder<string, JsonNode>(StringComparer.Ordinal);

        // What podman's CNI backend passed; dhcp's "provide: host-name fromArg K8S_POD_NAME" relies on it.
        if (request.ContainerName.Length > 0)
        {
            cniArgs.Add(new("K8S_POD_NAMESPACE", request.ContainerName));
            cniArgs.Add(new("K8S_POD_NAME", request.ContainerName));
        }
        cniArgs.Add(new("K8S_POD_INFRA_CONTAINER_ID", request.ContainerId));

        var ips = RequestedAddresses(network, kind.Ipam, request);
        if (ips.Count > 0)
        {
            var list = new JsonArray([.. ips.Select(ip => (JsonNode)JsonValue.Create(ip))]);
            capabilities["ips"] = list;
            if (!main.HasCapability("ips"))
            {
                configArgs["ips"] = list.DeepClone();
            }
        }

        var mac = request.StaticMac.Length > 0 ? RequestValidator.StaticMac(request.StaticMac) : null;
        if (mac is not null && !kind.Interface.HasOwnMac)
        {
            throw RequestValidator.Invalid(
                $"resource '{network.Name}' is {kind.Interface.Kind}, whose interfaces share the parent's MAC address; a static MAC cannot be used with it");
        }
        if (mac is null && kind.Ipam.KeepsLease && kind.Interface.HasOwnMac)
        {
            // DHCP servers commonly hand out addresses by MAC: the same MAC on every start of the container means
            // the same address (the client id, also stable, covers servers that key by client id).
            mac = StableMac(uid, network.Name, request.ContainerId, request.InterfaceName);
        }
        if (mac is not null)
        {
            capabilities["mac"] = JsonValue.Create(mac);
            if (!main.HasCapability("mac"))
            {
                cniArgs.Add(new("MAC", mac));
            }
        }

        var ports = PortMappings.Expand(request.PortMappings);
        if (ports.Count > 0)
        {
            capabilities["portMappings"] = ports;
        }
        if (Bandwidth(request) is { } bandwidth)
        {
            capabilities["bandwidth"] = bandwidth;
        }
        return new AttachmentPlan(cniArgs.ToImmutable(), capabilities.ToImmutable(), configArgs.ToImmutable());
    }

    private static readonly (string Option, string Field)[] BandwidthOptions =
    [
        ("bandwidth.ingress_rate", "ingressRate"), ("bandwidth.ingress_burst", "ingressBurst"),
        ("bandwidth.egress_rate", "egressRate"), ("bandwidth.egress_burst", "egressBurst"),
    ];

    /// <summary>
    /// The "bandwidth" capability from the container's per-network options (bits per second and bits, as the
    /// bandwidth plugin takes them). Rate and burst go together, as the plugin requires.
    /// </summary>
    private static JsonObject? Bandwidth(SetupRequest request)
    {
        var values = new JsonObject();
        foreach (var (option, field) in BandwidthOptions)
        {
            if (!request.Options.TryGetValue(option, out var text))
            {
                continue;
            }
            if (!ulong.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) || value == 0)
            {
                throw RequestValidator.Invalid($"option {option}: '{text}' is not a positive whole number (bits per second, or bits for a burst)");
            }
            values[field] = value;
        }
        if (values.Count == 0)
        {
            return null;
        }
        foreach (var direction in new[] { "ingress", "egress" })
        {
            if (values.ContainsKey($"{direction}Rate") != values.ContainsKey($"{direction}Burst"))
            {
                throw RequestValidator.Invalid($"options bandwidth.{direction}_rate and bandwidth.{direction}_burst must be given together");
            }
        }
        return values;
    }

    /// <summary>A locally administered unicast MAC derived from who the attachment belongs to and what it is.</summary>
    public static string StableMac(uint uid, string resource, string containerId, string ifName)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"net-porter/{uid}/{resource}/{containerId}/{ifName}"));
        hash[0] = (byte)((hash[0] & 0xFC) | 0x02);
        return string.Join(':', hash.Take(6).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// podman's static_ips are bare addresses, one per subnet. Each gets its subnet's prefix ("ip/prefix"), which
    /// static IPAM requires; host-local also accepts a bare address when no subnet contains it.
    /// </summary>
    private static List<string> RequestedAddresses(NetworkConfigList network, IIpamDriver ipam, SetupRequest request)
    {
        if (request.StaticIps.Count == 0)
        {
            return [];
        }
        RequestValidator.StaticIpCount(request.StaticIps.Count);
        if (ipam.WhyNoStaticIps(network.Name) is { } refusal)
        {
            throw RequestValidator.Invalid(refusal);
        }
        var subnets = (request.Network?.Subnets ?? []).Select(s => IPNetwork.TryParse(s.Subnet, out var n) ? n : (IPNetwork?)null)
            .OfType<IPNetwork>().ToList();
        var result = new List<string>();
        foreach (var text in request.StaticIps)
        {
            var ip = RequestValidator.StaticIp(text);
            if (subnets.Where(s => s.Contains(ip)).Select(s => (int?)s.PrefixLength).FirstOrDefault() is { } prefix)
            {
                result.Add($"{ip}/{prefix}");
            }
            else if (ipam.StaticIpsNeedPrefix)
            {
                throw RequestValidator.Invalid(
                    $"static IP {ip} lies in none of the network's subnets; resource '{network.Name}' uses static IPAM, " +
                    "which needs the prefix length: create the podman network with a --subnet that contains it");
            }
            else
            {
                result.Add(ip.ToString());
            }
        }
        return result;
    }
}
