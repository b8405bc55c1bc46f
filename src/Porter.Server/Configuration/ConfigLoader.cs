using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Porter.Server.Cni.Config;

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
    public static readonly ImmutableArray<string> DefaultPluginDirs = ["/usr/lib/cni", "/usr/libexec/cni", "/opt/cni/bin"];
    public const int MaxResourceNameLength = 100;

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
        root.OnlyKeys("domain_socket", "resources", "log", "cni_dir", "cni_plugin_dir", "state_dir", "plugin_timeout_seconds");

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
            item.OnlyKeys("name", "allow_users", "allow_user", "allow_groups");
            var nameNode = item.Get("name") ?? throw item.Error("a resource needs a \"name\"");
            var name = nameNode.AsString();
            if (CniNames.ValidateNetworkName(name, MaxResourceNameLength) is { } problem)
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
            var users = ReadPrincipals(item.Get("allow_users") ?? item.Get("allow_user"));
            var groups = ReadPrincipals(item.Get("allow_groups"));
            result.Add(new ResourceConfig(name, users, groups));
        }
        return result.ToImmutable();
    }

    private static ImmutableArray<Principal> ReadPrincipals(ConfigNode? node)
    {
        if (node is not { } list)
        {
            return [];
        }
        var result = ImmutableArray.CreateBuilder<Principal>();
        foreach (var item in list.Items())
        {
            switch (item.Kind)
            {
                case JsonValueKind.Number when item.Element.TryGetUInt32(out var id):
                    result.Add(new Principal(null, id));
                    break;
                case JsonValueKind.String:
                    var text = item.AsString();
                    if (text.Length == 0 || text.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == ':' || c == '/'))
                    {
                        throw item.Error($"{JsonSource.Quote(text)} is not a valid user or group name");
                    }
                    result.Add(uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var numeric)
                        ? new Principal(null, numeric)
                        : new Principal(text, null));
                    break;
                default:
                    throw item.Error($"expected a name or a numeric id, found {JsonSource.Describe(item.Kind)} {item.Element.GetRawText()}");
            }
        }
        return result.ToImmutable();
    }

    private static LogConfig ReadLog(ConfigNode? node)
    {
        if (node is not { } log)
        {
            return new LogConfig(LogLevel.Information, false);
        }
        log.OnlyKeys("level", "dump_env");
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
        return new LogConfig(level, dumpEnv);
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
