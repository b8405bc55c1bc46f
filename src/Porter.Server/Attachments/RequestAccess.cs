using Grpc.Core;
using Porter.Protocol;
using Porter.Protocol.V1;
using Porter.Server.Authorization;
using Porter.Server.Cni.Config;
using Porter.Server.Configuration;
using Porter.Server.Identity;

namespace Porter.Server.Attachments;

/// <summary>Whether this caller may do what the request asks on this resource, as gRPC errors when not.</summary>
public static class RequestAccess
{
    public static (ResourceConfig Resource, NetworkConfigList Network, AccessDecision Decision) Authorize(
        ServerSnapshot snapshot, CallerIdentity caller, string name)
    {
        RequestValidator.Resource(name);
        var resource = snapshot.Config.FindResource(name)
            ?? throw RpcErrors.Of(StatusCode.NotFound, $"resource '{name}' is not configured on this server");
        var decision = AccessPolicy.Decide(resource, caller);
        if (!decision.Allowed)
        {
            throw RpcErrors.Of(StatusCode.PermissionDenied, decision.Reason);
        }
        return (resource, snapshot.Networks[resource.Name], decision);
    }

    /// <summary>Static IPs and MACs are the caller's choice, so each must lie inside what their grants allow.</summary>
    public static void CheckStaticAddresses(SetupRequest request, AccessDecision decision, CallerIdentity caller, string resource)
    {
        foreach (var text in request.StaticIps)
        {
            var ip = RequestValidator.StaticIp(text);
            if (!decision.Ips.Any(range => range.Contains(ip)))
            {
                throw RpcErrors.Of(StatusCode.PermissionDenied, decision.Ips.IsEmpty
                    ? $"{caller.Describe()} may not request static IPs on resource '{resource}' (no \"ips\" are granted)"
                    : $"static IP {ip} is outside what {caller.Describe()} may request on resource '{resource}' ({string.Join(", ", decision.Ips)})");
            }
        }
        if (request.StaticMac.Length > 0)
        {
            var mac = RequestValidator.StaticMac(request.StaticMac);
            if (!decision.Macs.Any(range => range.Contains(mac)))
            {
                throw RpcErrors.Of(StatusCode.PermissionDenied, decision.Macs.IsEmpty
                    ? $"{caller.Describe()} may not request a static MAC on resource '{resource}' (no \"macs\" are granted)"
                    : $"static MAC {mac} is outside what {caller.Describe()} may request on resource '{resource}' ({string.Join(", ", decision.Macs)})");
            }
        }
    }
}
