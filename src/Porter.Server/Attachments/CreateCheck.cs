using Porter.Protocol.Grpc;
using Porter.Protocol.V1;
using Porter.Server.Cni.Invocation;
using Porter.Server.Cni.Runtime;
using Porter.Server.Configuration;
using Porter.Server.Rpc;

namespace Porter.Server.Attachments;

/// <summary>
/// "podman network create -d net-porter": the resource must exist, the caller must be granted it, its plugins must be
/// installed and agree on a version, and podman must not be set to assign addresses the resource's IPAM cannot take.
/// </summary>
public sealed class CreateCheck(ConfigStore store, CniRuntime runtime)
{
    public async Task<CreateResponse> CreateAsync(CreateRequest request, CallContext call)
    {
        var (_, network, _) = RequestAccess.Authorize(store.Current, call.Caller, request.Resource);
        string version;
        try
        {
            version = await runtime.NegotiateVersionAsync(network, call.Aborted).ConfigureAwait(false);
        }
        catch (CniException e)
        {
            throw new RpcException(StatusCode.FailedPrecondition, $"resource '{network.Name}' cannot be used: {e.Message}");
        }
        var ipam = network.MainPlugin.IpamType;
        var podmanAssigns = request.Network is { } n && n.Subnets.Count > 0 && n.IpamDriver is "" or "host-local";
        if (podmanAssigns && ipam is not ("static" or "host-local"))
        {
            var how = ipam is null ? "no IPAM at all" : $"{ipam} IPAM";
            throw new RpcException(StatusCode.FailedPrecondition,
                $"resource '{network.Name}' assigns addresses with {how}, but this network has subnets, so podman would " +
                "assign addresses as well: create the network without --subnet");
        }
        var response = new CreateResponse { Resource = network.Name, CniVersion = version, IpamType = ipam ?? "" };
        response.PluginTypes.AddRange(network.Plugins.Select(p => p.Type));
        return response;
    }
}
