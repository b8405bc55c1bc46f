using Porter.Server.Cni.Config;

namespace Porter.Server.Cni.Runtime;

/// <summary>Something a list needs in place before its plugins run (the DHCP daemon for dhcp IPAM).</summary>
public interface IListPreparer
{
    Task PrepareAsync(NetworkConfigList list, CancellationToken cancellationToken);
}
