using Porter.Plugin.Netavark;

namespace Porter.Plugin.Connection;

/// <summary>
/// net-porter's own keys in the podman network's options (-o key=value). The original README's names
/// net_porter_resource and net_porter_socket are accepted as aliases.
/// </summary>
public sealed record NetworkOptions(string Resource, string? Socket)
{
    private static readonly (string Key, string Alias)[] Keys = [("resource", "net_porter_resource"), ("socket", "net_porter_socket")];

    public static NetworkOptions From(Network network)
    {
        var options = network.Options ?? [];
        var resource = Read(options, "resource", "net_porter_resource")
            ?? throw new PluginException(
                $"network '{network.Name}' has no 'resource' option: create it with " +
                $"'podman network create -d {(network.Driver.Length > 0 ? network.Driver : "net-porter")} -o resource=<name> {network.Name}'");
        var socket = Read(options, "socket", "net_porter_socket");
        if (socket is not null && (socket.Length == 0 || socket[0] != '/'))
        {
            throw new PluginException($"network '{network.Name}': option 'socket' must be an absolute path, not '{socket}'");
        }
        return new NetworkOptions(resource, socket);
    }

    private static string? Read(Dictionary<string, string> options, string key, string alias)
    {
        options.TryGetValue(key, out var value);
        options.TryGetValue(alias, out var aliased);
        if (value is not null && aliased is not null && value != aliased)
        {
            throw new PluginException($"options '{key}' ({value}) and '{alias}' ({aliased}) disagree; give only one");
        }
        var result = value ?? aliased;
        if (result is not null && result.Length == 0)
        {
            throw new PluginException($"option '{key}' is empty");
        }
        return result;
    }
}
