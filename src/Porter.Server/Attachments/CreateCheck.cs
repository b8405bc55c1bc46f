using Grpc.Core;
using Porter.Protocol;
using Porter.Protocol.V1;
using Porter.Server.Cni.Invocation;
using Porter.Server.Cni.Runtime;
using Porter.Server.Configuration;
using Porter.Server.Drivers;
using Porter.Server.Identity;

namespace Porter.Server.Attachments;

/// <summary>
/// "podman network create -d net-porter": the resource must exist, the caller must be granted it, its plugins must be
/// installed and agree on a version, and podman must not be set to assign addresses the resource's IPAM cannot take.
/// </summary>
public sealed class CreateCheck(ConfigStore store, CniRuntime runtime)
{
    public async Task<CreateResponse> CreateAsync(CreateRequest request, CallContext call)
    {
        var snapshot = store.Current;
        var (resource, network, _) = RequestAccess.Authorize(snapshot, call.Caller, request.Resource);
        string version;
        try
        {
            version = await runtime.NegotiateVersionAsync(network, CniRuntimeOptions.From(snapshot.Config), call.Aborted).ConfigureAwait(false);
        }
        catch (CniException e)
        {
            throw RpcErrors.Of(StatusCode.FailedPrecondition, $"resource '{network.Name}' cannot be used: {e.Message}");
        }
        var kind = NetworkKind.Of(network);
        var ipam = kind.Ipam.Type;
        var podmanAssigns = request.Network is { } n && n.Subnets.Count > 0 && n.IpamDriver is "" or "host-local";
        if (podmanAssigns && !kind.Ipam.TakesPodmanAddresses)
        {
            var how = ipam is null ? "no IPAM at all" : $"{ipam} IPAM";
            throw RpcErrors.Of(StatusCode.FailedPrecondition,
                $"resource '{network.Name}' assigns addresses with {how}, but this network has subnets, so podman would " +
                "assign addresses as well: create the network without --subnet");
        }
        var response = new CreateResponse { Resource = network.Name, CniVersion = version, IpamType = ipam ?? "" };
        response.PluginTypes.AddRange(network.Plugins.Select(p => p.Type));
        if (!ProvidesDns(resource, network, kind) && request.Network is not { DnsServers.Count: > 0 })
        {
            // podman 5 then writes pasta's 169.254.1.1 into resolv.conf, which is not reachable from this network.
            response.Warnings.Add($"resource '{network.Name}' gives containers no DNS server, so name resolution will not work in them; " +
                "ask the administrator to set \"dns\" on the resource in config.json, or create the network with --dns");
        }
        return response;
    }

    /// <summary>DNS comes from the resource's configuration, from the CNI configuration ("dns" in the main plugin), or from the LAN's DHCP.</summary>
    private static bool ProvidesDns(ResourceConfig resource, Cni.Config.NetworkConfigList network, NetworkKind kind) =>
        !resource.Dns.Servers.IsEmpty || kind.Ipam.DnsFromLan ||
        (network.MainPlugin.Json.TryGetProperty("dns", out var dns) && dns.ValueKind == System.Text.Json.JsonValueKind.Object &&
         dns.TryGetProperty("nameservers", out var servers) && servers.ValueKind == System.Text.Json.JsonValueKind.Array && servers.GetArrayLength() > 0);
}
