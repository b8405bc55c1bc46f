using System.Text.Json;

namespace Porter.Server.Cni.Config;

/// <summary>
/// What a network must be to serve as a pure layer-2 segment (config.json "segment": true): a bridge the host takes no
/// part in. Checked where the configuration meets the networks, before any attachment (see Drivers/SegmentDriver).
/// </summary>
public static class SegmentRules
{
    /// <summary>Why this network cannot be a segment, or null when it can.</summary>
    public static string? WhyNot(NetworkConfigList network)
    {
        var main = network.MainPlugin;
        if (main.Type != "bridge")
        {
            return $"its main plugin is '{main.Type}'; a segment is a host bridge (type \"bridge\")";
        }
        foreach (var key in new[] { "isGateway", "isDefaultGateway", "ipMasq", "forceAddress" })
        {
            if (main.Json.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.True)
            {
                return $"its bridge sets \"{key}\": true, which gives the host a part in the segment; a segment's bridge has no address and no NAT";
            }
        }
        if (network.Plugins.Skip(1).FirstOrDefault(p => p.Type == "portmap") is not null)
        {
            return "it chains portmap, which forwards host ports into the segment; a segment is not reachable from the host";
        }
        return null;
    }
}
