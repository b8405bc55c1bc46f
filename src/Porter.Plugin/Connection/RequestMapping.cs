using Porter.Plugin.Netavark;
using Porter.Protocol.V1;
using NetavarkNetwork = Porter.Plugin.Netavark.Network;
using ProtoNetwork = Porter.Protocol.V1.Network;

namespace Porter.Plugin.Connection;

/// <summary>netavark's JSON types turned into the server's protobuf requests (the server trusts none of it).</summary>
public static class RequestMapping
{
    public static ProtoNetwork ToProto(NetavarkNetwork network)
    {
        var proto = new ProtoNetwork
        {
            Name = network.Name,
            Id = network.Id,
            Driver = network.Driver,
            IpamDriver = network.IpamOptions?.GetValueOrDefault("driver") ?? "",
            Internal = network.Internal,
            Ipv6Enabled = network.Ipv6Enabled,
            DnsEnabled = network.DnsEnabled,
            NetworkInterface = network.NetworkInterface ?? "",
        };
        if (network.Options is not null)
        {
            proto.Options.Add(network.Options);
        }
        proto.DnsServers.AddRange(network.NetworkDnsServers ?? []);
        foreach (var subnet in network.Subnets ?? [])
        {
            proto.Subnets.Add(new NetworkSubnet
            {
                Subnet = subnet.Value,
                Gateway = subnet.Gateway ?? "",
                LeaseStart = subnet.LeaseRange?.StartIp ?? "",
                LeaseEnd = subnet.LeaseRange?.EndIp ?? "",
            });
        }
        return proto;
    }

    public static SetupRequest ToSetup(NetworkPluginExec exec, string resource, string netnsPath)
    {
        var options = exec.NetworkOptions;
        var request = new SetupRequest
        {
            Resource = resource,
            NetnsPath = netnsPath,
            ContainerId = exec.ContainerId,
            ContainerName = exec.ContainerName,
            InterfaceName = options.InterfaceName,
            StaticMac = options.StaticMac ?? "",
            Network = ToProto(exec.Network),
        };
        request.StaticIps.AddRange(options.StaticIps ?? []);
        request.Aliases.AddRange(options.Aliases ?? []);
        if (options.Options is not null)
        {
            request.Options.Add(options.Options);
        }
        foreach (var mapping in exec.PortMappings ?? [])
        {
            request.PortMappings.Add(new Porter.Protocol.V1.PortMapping
            {
                ContainerPort = mapping.ContainerPort,
                HostPort = mapping.HostPort,
                Range = mapping.Range,
                Protocol = mapping.Protocol,
                HostIp = mapping.HostIp,
            });
        }
        return request;
    }

    public static TeardownRequest ToTeardown(NetworkPluginExec exec, string resource, string netnsPath) => new()
    {
        Resource = resource,
        NetnsPath = netnsPath,
        ContainerId = exec.ContainerId,
        InterfaceName = exec.NetworkOptions.InterfaceName,
        Network = ToProto(exec.Network),
    };
}
