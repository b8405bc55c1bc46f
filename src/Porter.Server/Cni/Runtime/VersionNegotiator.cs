using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text.Json;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Invocation;
using Porter.Server.Cni.Types;

namespace Porter.Server.Cni.Runtime;

/// <summary>
/// Picks the CNI version a list runs at: the highest version that the list is written for (or older),
/// that the runtime implements, and that every plugin in it (IPAM included) reports in VERSION.
/// So a 1.1.0 list runs at 1.0.0 with Debian's 1.1.1 plugins instead of failing with "incompatible CNI versions".
/// </summary>
public sealed class VersionNegotiator(PluginExecutor executor)
{
    private readonly ConcurrentDictionary<(string Path, long Size, DateTime Modified), ImmutableArray<CniVersion>> _probes = new();

    public async Task<string> NegotiateAsync(NetworkConfigList list, Func<string, string> locate, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var types = list.Plugins.SelectMany(p => p.IpamType is null ? [p.Type] : new[] { p.Type, p.IpamType }).Distinct();
        var supported = new List<(string Type, ImmutableArray<CniVersion> Versions)>();
        foreach (var type in types)
        {
            supported.Add((type, await ProbeAsync(type, locate(type), timeout, cancellationToken).ConfigureAwait(false)));
        }
        return Choose(list, supported).ToString();
    }

    /// <summary>The version rule itself, separate from probing so that it can be checked on its own.</summary>
    public static CniVersion Choose(NetworkConfigList list, IReadOnlyList<(string Type, ImmutableArray<CniVersion> Versions)> supported)
    {
        var wanted = new[] { list.CniVersion }.Concat(list.CniVersions)
            .Select(v => CniVersion.TryParse(v, out var parsed) ? parsed : default)
            .Where(v => v >= CniVersion.MinimumSupported)
            .ToList();
        if (wanted.Count == 0)
        {
            throw new CniException($"network '{list.Name}' names no usable cniVersion");
        }
        var ceiling = wanted.Max();
        if (ceiling > CniVersion.MaximumSupported)
        {
            ceiling = CniVersion.MaximumSupported;
        }
        IEnumerable<CniVersion> common = supported.Count == 0 ? [] : supported[0].Versions;
        foreach (var (_, versions) in supported.Skip(1))
        {
            common = common.Intersect(versions);
        }
        var chosen = common.Where(v => v <= ceiling && v >= CniVersion.MinimumSupported).DefaultIfEmpty().Max();
        if (chosen == default)
        {
            var reports = supported.Select(s => $"{s.Type}: {string.Join(", ", s.Versions)}");
            throw new CniException(
                $"network '{list.Name}' asks for cniVersion {list.CniVersion}, but its plugins share no version from " +
                $"{CniVersion.MinimumSupported} to {ceiling} ({string.Join("; ", reports)})");
        }
        return chosen;
    }

    private async Task<ImmutableArray<CniVersion>> ProbeAsync(string type, string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        var key = (path, info.Length, info.LastWriteTimeUtc);
        if (_probes.TryGetValue(key, out var cached))
        {
            return cached;
        }
        var stdout = await executor.ExecAsync(new PluginInvocation(
            type, path, "VERSION",
            [new("CNI_COMMAND", "VERSION"), new("PATH", Native.SystemPaths.Search)],
            """{"cniVersion":"1.0.0"}"""u8.ToArray(),
            timeout), cancellationToken).ConfigureAwait(false);
        ImmutableArray<CniVersion> versions;
        try
        {
            using var doc = JsonDocument.Parse(stdout);
            versions = [.. doc.RootElement.GetProperty("supportedVersions").EnumerateArray()
                .Select(v => CniVersion.TryParse(v.GetString(), out var parsed) ? parsed : default)
                .Where(v => v != default)];
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new CniException($"CNI plugin '{type}' gave an unreadable VERSION answer: {e.Message}", e);
        }
        _probes[key] = versions;
        return versions;
    }
}
