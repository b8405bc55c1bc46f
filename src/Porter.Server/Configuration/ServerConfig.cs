using System.Collections.Immutable;
using Microsoft.Extensions.Logging;

namespace Porter.Server.Configuration;

/// <summary>The validated contents of config.json. Immutable: a reload builds a new one and swaps it in whole.</summary>
public sealed record ServerConfig
{
    public required string SourcePath { get; init; }
    public required DomainSocketConfig DomainSocket { get; init; }
    public required ImmutableArray<ResourceConfig> Resources { get; init; }
    public required LogConfig Log { get; init; }
    /// <summary>Directory of CNI network configurations (.conflist, .conf, and &lt;resource&gt;.json).</summary>
    public required string CniDir { get; init; }
    /// <summary>Directory holding the CNI plugin binaries (CNI_PATH).</summary>
    public required string CniPluginDir { get; init; }
    /// <summary>Where attachments, the CNI cache and IPAM allocations live (root-only).</summary>
    public required string StateDir { get; init; }
    /// <summary>How long one CNI plugin execution may run before it is killed.</summary>
    public required TimeSpan PluginTimeout { get; init; }

    public ResourceConfig? FindResource(string name) =>
        Resources.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.Ordinal));
}

public sealed record DomainSocketConfig(string Path, string User, string Group, int Mode);

/// <summary>One resource: a CNI network of the same name and who may attach containers to it.</summary>
public sealed record ResourceConfig(string Name, ImmutableArray<Principal> AllowUsers, ImmutableArray<Principal> AllowGroups);

/// <summary>A user or group named in an ACL, by name ("alice") or by number (1000 or "1000").</summary>
public sealed record Principal(string? Name, uint? Id)
{
    public override string ToString() => Name ?? Id!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public sealed record LogConfig(LogLevel Level, bool DumpEnv);
