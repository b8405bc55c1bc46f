using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Porter.Server.Authorization;
using Porter.Server.Cni.Config;
using Porter.Server.Json;
using Porter.Server.Net;

namespace Porter.Server.Configuration;

/// <summary>
/// Reads config.json in the format of the original net-porter README, with its known slips tolerated
/// ("allow_user" for "allow_users") and everything else checked strictly.
/// </summary>
public static class ConfigLoader
{
    public const string DefaultConfigPath = "/etc/net-porter/config.json";
    public const string DefaultSocketPath = "/run/net-porter.sock";
    public const string DefaultStateDir = "/var/lib/net-porter";
    public const string DefaultUserRuntimeDir = "/run/user";
    public static readonly ImmutableArray<string> DefaultPluginDirs = ["/usr/lib/cni", "/usr/libexec/cni", "/opt/cni/bin"];

    public static ServerConfig Load(string path)
    {
        var fullPath = Path.GetFullPath(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(fullPath, null, null, null, $"cannot read the configuration: {e.Message}", e);
        }
        return Parse(fullPath, bytes);
    }

    public static ServerConfig Parse(string file, byte[] bytes)
    {
        using var source = JsonSource.Parse(file, bytes);
        var root = source.Root;
        root.RequireKind(JsonValueKind.Object);
        root.OnlyKeys("domain_socket", "resources", "log", "cni_dir", "cni_plugin_dir", "state_dir", "plugin_timeout_seconds",
            "user_sockets", "limits", "gc_interval_seconds", "dhcp");

        var configDir = Path.GetDirectoryName(file) ?? "/";
        return new ServerConfig
        {
            SourcePath = file,
            DomainSocket = ReadSocket(root.Get("domain_socket")),
            Resources = ReadResources(root.Get("resources")),
            Log = ReadLog(root.Get("log")),
            CniDir = ReadDirectory(root.Get("cni_dir"), configDir) ?? Path.Combine(configDir, "cni.d"),
            CniPluginDir = ReadDirectory(root.Get("cni_plugin_dir"), configDir)
                ?? DefaultPluginDirs.FirstOrDefault(Directory.Exists)
                ?? DefaultPluginDirs[0],
            StateDir = ReadDirectory(root.Get("state_dir"), configDir) ?? DefaultStateDir,
            PluginTimeout = TimeSpan.FromSeconds(root.Get("plugin_timeout_seconds")?.AsInt(1, 3600) ?? 60),
            GcInterval = TimeSpan.FromSeconds(root.Get("gc_interval_seconds")?.AsInt(1, 86400) ?? 60),
            UserSockets = ReadUserSockets(root.Get("user_sockets"), configDir),
            Dhcp = ReadDhcp(root.Get("dhcp")),
            Limits = ReadLimits(root.Get("limits")),
        };
    }

    private static DomainSocketConfig ReadSocket(ConfigNode? node)
    {
        if (node is not { } socket)
        {
            return new DomainSocketConfig(DefaultSocketPath, "root", "root", Convert.ToInt32("660", 8));
        }
        socket.OnlyKeys("path", "user", "group", "mode");
        var path = socket.Get("path") is { } p ? p.AsString() : DefaultSocketPath;
        if (!Path.IsPathFullyQualified(path) || path.EndsWith('/'))
        {
            throw socket.Get("path")!.Value.Error($"the socket path must be an absolute file path, found {JsonSource.Quote(path)}");
        }
        if (System.Text.Encoding.UTF8.GetByteCount(path) > 107)
        {
            throw socket.Get("path")!.Value.Error("the socket path is longer than the 107 bytes a unix socket address can hold");
        }
        var mode = socket.Get("mode")?.AsFileMode() ?? Convert.ToInt32("660", 8);
        return new DomainSocketConfig(path, NonEmpty(socket.Get("user")) ?? "root", NonEmpty(socket.Get("group")) ?? "root", mode);
    }

    private static ImmutableArray<ResourceConfig> ReadResources(ConfigNode? node)
    {
        if (node is not { } list)
        {
            return [];
        }
        var result = ImmutableArray.CreateBuilder<ResourceConfig>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in list.Items())
        {
            item.OnlyKeys("name", "allow_users", "allow_user", "allow_groups", "slaac_wait_seconds", "dns", "segment");
            var nameNode = item.Get("name") ?? throw item.Error("a resource needs a \"name\"");
            var name = nameNode.AsString();
            if (CniNames.ValidateNetworkName(name, CniNames.MaxNetworkNameLength) is { } problem)
            {
                throw nameNode.Error(problem);
            }
            if (seen.TryGetValue(name, out var first))
            {
                throw nameNode.Error($"resource '{name}' is already defined at {first}");
            }
            seen[name] = nameNode.Path;

            if (item.Get("allow_users") is not null && item.Get("allow_user") is not null)
            {
                throw item.Error("give either \"allow_users\" or its alias \"allow_user\", not both");
            }
            var users = ReadGrants(item.Get("allow_users") ?? item.Get("allow_user"), "user");
            var groups = ReadGrants(item.Get("allow_groups"), "group");
            result.Add(new ResourceConfig(name, users, groups)
            {
                SlaacWait = TimeSpan.FromSeconds(item.Get("slaac_wait_seconds")?.AsInt(0, 30) ?? 0),
                Dns = ReadDns(item.Get("dns")),
                Segment = item.OptionalBool("segment") ?? false,
            });
        }
        return result.ToImmutable();
    }

    /// <summary>"dns": {"servers": ["192.168.1.53", "fd00::53"], "search": ["lan.example"]}; servers are IP addresses.</summary>
    private static ResourceDns ReadDns(ConfigNode? node)
    {
        if (node is not { } dns)
        {
            return ResourceDns.None;
        }
        dns.RequireKind(JsonValueKind.Object);
        dns.OnlyKeys("servers", "search");
        var servers = ImmutableArray.CreateBuilder<string>();
        foreach (var server in dns.Get("servers")?.Items() ?? [])
        {
            var text = server.AsString();
            servers.Add(Net.IpAddresses.TryParse(text, out var address)
                ? address.ToString()
                : throw server.Error($"{JsonSource.Quote(text)} is not an IP address (DNS servers are given by address)"));
        }
        var search = ImmutableArray.CreateBuilder<string>();
        foreach (var domain in dns.Get("search")?.Items() ?? [])
        {
            var text = domain.AsString();
            if (!IsDomainName(text))
            {
                throw domain.Error($"{JsonSource.Quote(text)} is not a domain name");
            }
            search.Add(text);
        }
        if (servers.Count == 0 && search.Count > 0)
        {
            throw dns.Error("\"search\" needs \"servers\" as well");
        }
        return new ResourceDns(servers.ToImmutable(), search.ToImmutable());
    }

    /// <summary>Letters, digits and hyphens in dot-separated labels of 1-63 characters, 253 at most (resolv.conf takes them as they are).</summary>
    private static bool IsDomainName(string text) =>
        text.Length is > 0 and <= 253 &&
        text.TrimEnd('.').Split('.').All(label => label.Length is > 0 and <= 63 && label[0] != '-' && label[^1] != '-' &&
                                                  label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));

    /// <summary>
    /// Grant entries: a name or id ("alice", 1000, "1000"), or an object that also bounds static addresses:
    /// {"user": "alice", "ips": ["192.168.1.64/28"], "macs": ["02:42:c0:a8:01:00/40"]} ("group" for allow_groups).
    /// </summary>
    private static ImmutableArray<Grant> ReadGrants(ConfigNode? node, string kind)
    {
        if (node is not { } list)
        {
            return [];
        }
        var result = ImmutableArray.CreateBuilder<Grant>();
        foreach (var item in list.Items())
        {
            if (item.Kind != JsonValueKind.Object)
            {
                result.Add(Grant.Of(ReadPrincipal(item)));
                continue;
            }
            item.OnlyKeys(kind, "ips", "macs");
            var principal = ReadPrincipal(item.Get(kind) ?? throw item.Error($"a grant object needs \"{kind}\""));
            var ips = ImmutableArray.CreateBuilder<IpRange>();
            foreach (var ip in item.Get("ips")?.Items() ?? [])
            {
                ips.Add(IpRange.TryParse(ip.AsString(), out var range, out var problem) ? range : throw ip.Error(problem));
            }
            var macs = ImmutableArray.CreateBuilder<MacRange>();
            foreach (var mac in item.Get("macs")?.Items() ?? [])
            {
                macs.Add(MacRange.TryParse(mac.AsString(), out var range, out var problem) ? range : throw mac.Error(problem));
            }
            result.Add(new Grant(principal, ips.ToImmutable(), macs.ToImmutable()));
        }
        return result.ToImmutable();
    }

    private static Principal ReadPrincipal(ConfigNode item)
    {
        switch (item.Kind)
        {
            case JsonValueKind.Number when item.Element.TryGetUInt32(out var id):
                return new Principal(null, id);
            case JsonValueKind.String:
                var text = item.AsString();
                if (text.Length == 0 || text.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == ':' || c == '/'))
                {
                    throw item.Error($"{JsonSource.Quote(text)} is not a valid user or group name");
                }
                return uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var numeric)
                    ? new Principal(null, numeric)
                    : new Principal(text, null);
            default:
                throw item.Error($"expected a name or a numeric id, found {JsonSource.Describe(item.Kind)} {item.Element.GetRawText()}");
        }
    }

    private static UserSocketsConfig ReadUserSockets(ConfigNode? node, string configDir)
    {
        if (node is not { } sockets)
        {
            return new UserSocketsConfig(true, DefaultUserRuntimeDir);
        }
        sockets.OnlyKeys("enabled", "runtime_dir");
        return new UserSocketsConfig(
            sockets.OptionalBool("enabled") ?? true,
            ReadDirectory(sockets.Get("runtime_dir"), configDir) ?? DefaultUserRuntimeDir);
    }

    private static DhcpConfig ReadDhcp(ConfigNode? node)
    {
        if (node is not { } dhcp)
        {
            return DhcpConfig.Default;
        }
        dhcp.OnlyKeys("request_timeout_seconds", "broadcast");
        return new DhcpConfig(
            dhcp.Get("request_timeout_seconds") is { } t ? TimeSpan.FromSeconds(t.AsInt(1, 60)) : DhcpConfig.Default.RequestTimeout,
            dhcp.OptionalBool("broadcast") ?? false);
    }

    private static LimitsConfig ReadLimits(ConfigNode? node)
    {
        if (node is not { } limits)
        {
            return LimitsConfig.Default;
        }
        limits.OnlyKeys("connections_per_user", "concurrent_requests_per_user", "attachments_per_user");
        var d = LimitsConfig.Default;
        return new LimitsConfig(
            limits.Get("connections_per_user")?.AsInt(1, 100_000) ?? d.ConnectionsPerUser,
            limits.Get("concurrent_requests_per_user")?.AsInt(1, 10_000) ?? d.ConcurrentRequestsPerUser,
            limits.Get("attachments_per_user")?.AsInt(1, 1_000_000) ?? d.AttachmentsPerUser);
    }

    private static LogConfig ReadLog(ConfigNode? node)
    {
        if (node is not { } log)
        {
            return new LogConfig(LogLevel.Information, false);
        }
        log.OnlyKeys("level", "dump_env", "timings");
        var level = LogLevel.Information;
        if (log.Get("level") is { } levelNode)
        {
            level = levelNode.AsString().ToLowerInvariant() switch
            {
                "trace" => LogLevel.Trace,
                "debug" => LogLevel.Debug,
                "info" or "information" => LogLevel.Information,
                "warn" or "warning" => LogLevel.Warning,
                "error" => LogLevel.Error,
                var other => throw levelNode.Error($"unknown log level '{other}' (use trace, debug, info, warning or error)"),
            };
        }
        var dumpEnv = false;
        if (log.Get("dump_env") is { } dump)
        {
            dump.OnlyKeys("enabled");
            dumpEnv = dump.OptionalBool("enabled") ?? false;
        }
        return new LogConfig(level, dumpEnv, log.OptionalBool("timings") ?? false);
    }

    private static string? ReadDirectory(ConfigNode? node, string configDir)
    {
        if (node is not { } n)
        {
            return null;
        }
        var text = n.AsString();
        if (text.Length == 0)
        {
            throw n.Error("expected a directory path, found an empty string");
        }
        return Path.GetFullPath(text, configDir);
    }

    private static string? NonEmpty(ConfigNode? node)
    {
        if (node is not { } n)
        {
            return null;
        }
        var text = n.AsString();
        if (text.Length == 0)
        {
            throw n.Error("expected a name, found an empty string");
        }
        return text;
    }
}
