using System.Collections.Immutable;
using Porter.Server.Cni.Config;
using Porter.Server.Identity;
using Porter.Server.Json;

namespace Porter.Server.Configuration;

/// <summary>Everything a request reads: the server configuration and the CNI networks, loaded and checked together.</summary>
public sealed record ServerSnapshot(ServerConfig Config, ImmutableDictionary<string, NetworkConfigList> Networks)
{
    /// <summary>Where host-local IPAM keeps its allocations unless a network names its own dataDir.</summary>
    public static string HostLocalDataDir(string stateDir) => Path.Combine(stateDir, "host-local");

    /// <summary>The socket of the DHCP daemon the server runs.</summary>
    public static string DhcpSocketPath(string stateDir) => Path.Combine(stateDir, "dhcp", "dhcp.sock");

    /// <summary>Loads and validates; returns warnings that do not stop the server (unknown users, unused networks).</summary>
    public static (ServerSnapshot Snapshot, IReadOnlyList<string> Warnings) Load(string configPath, UserDatabase users)
    {
        var config = ConfigLoader.Load(configPath);
        var networks = NetworkConfigLoader.LoadDirectory(config.CniDir, new CniLoadOptions(HostLocalDataDir(config.StateDir), DhcpSocketPath(config.StateDir)));
        var warnings = new List<string>();
        foreach (var resource in config.Resources)
        {
            if (!networks.ContainsKey(resource.Name))
            {
                var known = networks.IsEmpty ? "none" : string.Join(", ", networks.Keys.Order(StringComparer.Ordinal));
                throw new ConfigException(config.SourcePath, null, null, $"resources[{config.Resources.IndexOf(resource)}]",
                    $"resource '{resource.Name}' has no CNI network of that name in {config.CniDir} (found: {known})");
            }
            if (resource.Segment && SegmentRules.WhyNot(networks[resource.Name]) is { } notSegment)
            {
                throw new ConfigException(config.SourcePath, null, null, $"resources[{config.Resources.IndexOf(resource)}]",
                    $"resource '{resource.Name}' is a segment, but its CNI network ({networks[resource.Name].SourcePath}) cannot be one: {notSegment}");
            }
            if (resource.AllowUsers.IsEmpty && resource.AllowGroups.IsEmpty)
            {
                warnings.Add($"resource '{resource.Name}' grants nobody (no allow_users, no allow_groups)");
            }
            foreach (var user in resource.AllowUsers.Select(g => g.Principal).Where(p => p.Name is not null && users.GetUser(p.Name) is null))
            {
                warnings.Add($"resource '{resource.Name}': allow_users names '{user}', which is not a known user");
            }
            foreach (var group in resource.AllowGroups.Select(g => g.Principal).Where(p => p.Name is not null && users.GetGroup(p.Name) is null))
            {
                warnings.Add($"resource '{resource.Name}': allow_groups names '{group}', which is not a known group");
            }
        }
        foreach (var name in networks.Keys.Where(n => config.FindResource(n) is null).Order(StringComparer.Ordinal))
        {
            warnings.Add($"CNI network '{name}' ({networks[name].SourcePath}) is not offered as a resource");
        }
        return (new ServerSnapshot(config, networks), warnings);
    }
}

/// <summary>
/// Holds the current snapshot. A reload validates a complete new snapshot first and swaps it in with one reference
/// assignment, so a request sees the old configuration or the new one, never a mix, and a bad file changes nothing.
/// </summary>
public sealed class ConfigStore(ServerSnapshot initial, string configPath, UserDatabase users)
{
    private volatile ServerSnapshot _current = initial;

    public ServerSnapshot Current => _current;

    public string ConfigPath { get; } = configPath;

    /// <summary>Raised after a new snapshot was swapped in.</summary>
    public event Action? Changed;

    public (bool Applied, IReadOnlyList<string> Messages) Reload()
    {
        ServerSnapshot next;
        IReadOnlyList<string> warnings;
        try
        {
            (next, warnings) = ServerSnapshot.Load(ConfigPath, users);
        }
        catch (ConfigException e)
        {
            return (false, [$"configuration not reloaded: {e.Message}"]);
        }
        var old = _current.Config;
        var fixedAtStart = new List<string>();
        if (next.Config.DomainSocket != old.DomainSocket)
        {
            fixedAtStart.Add("domain_socket");
        }
        if (next.Config.StateDir != old.StateDir)
        {
            fixedAtStart.Add("state_dir");
        }
        if (fixedAtStart.Count > 0)
        {
            return (false, [$"configuration not reloaded: {string.Join(" and ", fixedAtStart)} can only change with a restart"]);
        }
        _current = next;
        Changed?.Invoke();
        return (true, warnings);
    }
}
