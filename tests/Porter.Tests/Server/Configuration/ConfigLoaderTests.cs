using System.Text;
using Microsoft.Extensions.Logging;
using Porter.Server.Configuration;
using Porter.Server.Json;
using Xunit;

namespace Porter.Tests.Server.Configuration;

public sealed class ConfigLoaderTests
{
    private const string File = "/etc/net-porter/config.json";

    /// <summary>The configuration example of the original net-porter README, verbatim, missing comma included.</summary>
    private static readonly string OriginalReadmeConfig = System.IO.File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "original-readme-config.json"));

    private static readonly string CorrectedReadmeConfig =
        OriginalReadmeConfig.Replace("\"allow_user\": [\"podman\"]", "\"allow_user\": [\"podman\"],", StringComparison.Ordinal);

    private static ServerConfig Parse(string json, string file = File) => ConfigLoader.Parse(file, Encoding.UTF8.GetBytes(json));

    private static ConfigException Fails(string json) => Assert.Throws<ConfigException>(() => Parse(json));

    private static string Resource(string body) => $$"""{"resources": [{{body}}]}""";

    [Fact]
    public void The_original_README_example_is_refused_at_the_line_after_the_missing_comma()
    {
        var e = Fails(OriginalReadmeConfig);

        Assert.Equal(File, e.File);
        Assert.Equal(11, e.Line);
        Assert.Equal(7, e.Column);
        Assert.Null(e.JsonPath);
        Assert.Contains("Expected either ','", e.Problem, StringComparison.Ordinal);
        Assert.Equal($"{File}:11:7: invalid JSON: '\"' is invalid after a value. Expected either ',', '}}', or ']'.", e.Message);
    }

    [Fact]
    public void The_corrected_README_example_parses_with_allow_user_as_an_alias()
    {
        var config = Parse(CorrectedReadmeConfig);

        Assert.Equal(File, config.SourcePath);
        Assert.Equal(new DomainSocketConfig("/run/net-porter.sock", "root", "net-porter", Convert.ToInt32("660", 8)), config.DomainSocket);
        var resource = Assert.Single(config.Resources);
        Assert.Equal("macvlan-dhcp", resource.Name);
        Assert.Equal<Principal>([new Principal("podman", null)], resource.AllowUsers.Select(g => g.Principal));
        Assert.Equal<Principal>([new Principal("root", null)], resource.AllowGroups.Select(g => g.Principal));
        Assert.Equal(new LogConfig(LogLevel.Information, DumpEnv: true), config.Log);
        Assert.Same(resource, config.FindResource("macvlan-dhcp"));
        Assert.Null(config.FindResource("MACVLAN-DHCP"));
    }

    [Fact]
    public void allow_user_and_allow_users_mean_the_same()
    {
        var alias = Parse(Resource("""{"name": "lan", "allow_user": ["alice", 1001]}""")).Resources[0];
        var canonical = Parse(Resource("""{"name": "lan", "allow_users": ["alice", 1001]}""")).Resources[0];

        Assert.Equal<Principal>(canonical.AllowUsers.Select(g => g.Principal), alias.AllowUsers.Select(g => g.Principal));
        Assert.Equal<Principal>([new Principal("alice", null), new Principal(null, 1001)], alias.AllowUsers.Select(g => g.Principal));
    }

    [Fact]
    public void allow_user_and_allow_users_together_are_refused()
    {
        var e = Fails("""
            {"resources": [
              {"name": "lan", "allow_user": ["a"], "allow_users": ["b"]}
            ]}
            """);

        Assert.Equal("resources[0]", e.JsonPath);
        Assert.Equal((2, 3), (e.Line, e.Column));
        Assert.Equal("give either \"allow_users\" or its alias \"allow_user\", not both", e.Problem);
        Assert.Equal($"{File}:2:3: resources[0]: give either \"allow_users\" or its alias \"allow_user\", not both", e.Message);
    }

    [Fact]
    public void An_unknown_key_is_named_with_its_path_line_and_a_suggestion()
    {
        var e = Fails("""
            {
              "resources": [
                {
                  "name": "lan",
                  "alow_users": ["alice"]
                }
              ]
            }
            """);

        Assert.Equal("resources[0].alow_users", e.JsonPath);
        Assert.Equal(5, e.Line);
        Assert.Equal(21, e.Column); // the value of the key
        Assert.Equal(
            "unknown key 'alow_users' (known keys: name, allow_users, allow_user, allow_groups, slaac_wait_seconds, dns, segment); did you mean 'allow_users'?",
            e.Problem);
        Assert.StartsWith($"{File}:5:21: resources[0].alow_users: unknown key 'alow_users'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_key_far_from_every_known_one_gets_no_suggestion()
    {
        var e = Fails("""{"frobnicate": 1}""");

        Assert.Equal("frobnicate", e.JsonPath);
        Assert.Equal((1, 16), (e.Line, e.Column));
        Assert.Equal(
            "unknown key 'frobnicate' (known keys: domain_socket, resources, log, cni_dir, cni_plugin_dir, state_dir, plugin_timeout_seconds, user_sockets, limits, gc_interval_seconds, dhcp)",
            e.Problem);
    }

    [Fact]
    public void A_misspelt_nested_key_is_suggested()
    {
        var e = Fails("""{"domain_socket": {"grop": "net-porter"}}""");
        Assert.Equal("domain_socket.grop", e.JsonPath);
        Assert.Equal("unknown key 'grop' (known keys: path, user, group, mode); did you mean 'group'?", e.Problem);
    }

    [Fact]
    public void An_empty_configuration_takes_every_default()
    {
        var config = Parse("{}");

        Assert.Equal(new DomainSocketConfig("/run/net-porter.sock", "root", "root", 0b110_110_000), config.DomainSocket);
        Assert.Equal("/etc/net-porter/cni.d", config.CniDir);
        Assert.Equal("/var/lib/net-porter", config.StateDir);
        Assert.Equal(TimeSpan.FromSeconds(60), config.PluginTimeout);
        Assert.Equal(new LogConfig(LogLevel.Information, false), config.Log);
        Assert.Empty(config.Resources);
        Assert.Contains(config.CniPluginDir, ConfigLoader.DefaultPluginDirs);
    }

    [Fact]
    public void The_cni_dir_default_follows_the_configuration_file()
    {
        Assert.Equal("/srv/porter/cni.d", Parse("{}", "/srv/porter/config.json").CniDir);
    }

    [Fact]
    public void Directories_are_resolved_against_the_configuration_directory()
    {
        var config = Parse("""{"cni_dir": "networks", "cni_plugin_dir": "../bin", "state_dir": "/srv/state", "plugin_timeout_seconds": 5}""");

        Assert.Equal("/etc/net-porter/networks", config.CniDir);
        Assert.Equal("/etc/bin", config.CniPluginDir);
        Assert.Equal("/srv/state", config.StateDir);
        Assert.Equal(TimeSpan.FromSeconds(5), config.PluginTimeout);
    }

    [Fact]
    public void An_empty_directory_is_refused()
    {
        var e = Fails("""{"state_dir": ""}""");
        Assert.Equal("state_dir", e.JsonPath);
        Assert.Equal("expected a directory path, found an empty string", e.Problem);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("3601")]
    [InlineData("1.5")]
    public void plugin_timeout_seconds_must_be_a_whole_number_from_1_to_3600(string value)
    {
        var e = Fails($$"""{"plugin_timeout_seconds": {{value}}}""");
        Assert.Equal($"expected a whole number from 1 to 3600, found {value}", e.Problem);
    }

    [Fact]
    public void Numeric_principals_become_ids_whether_written_as_numbers_or_strings()
    {
        var resource = Parse(Resource("""{"name": "lan", "allow_users": [1000, "1000", "alice", 0], "allow_groups": ["100", "netdev"]}""")).Resources[0];

        Assert.Equal<Principal>([new Principal(null, 1000), new Principal(null, 1000), new Principal("alice", null), new Principal(null, 0)], resource.AllowUsers.Select(g => g.Principal));
        Assert.Equal<Principal>([new Principal(null, 100), new Principal("netdev", null)], resource.AllowGroups.Select(g => g.Principal));
        Assert.Equal("1000", resource.AllowUsers[0].ToString());
        Assert.Equal("alice", resource.AllowUsers[2].ToString());
    }

    [Theory]
    [InlineData("-1", "expected a name or a numeric id, found a number -1")]
    [InlineData("1.5", "expected a name or a numeric id, found a number 1.5")]
    [InlineData("4294967296", "expected a name or a numeric id, found a number 4294967296")]
    [InlineData("true", "expected a name or a numeric id, found a boolean true")]
    [InlineData("\"\"", "'' is not a valid user or group name")]
    [InlineData("\"al ice\"", "'al ice' is not a valid user or group name")]
    [InlineData("\"a:b\"", "'a:b' is not a valid user or group name")]
    [InlineData("\"a/b\"", "'a/b' is not a valid user or group name")]
    public void Invalid_principals_are_refused(string principal, string problem)
    {
        var e = Fails(Resource($$"""{"name": "lan", "allow_users": ["ok", {{principal}}]}"""));
        Assert.Equal("resources[0].allow_users[1]", e.JsonPath);
        Assert.Equal(problem, e.Problem);
    }

    [Theory]
    [InlineData("../x", "'../x' is not a valid name: use letters, digits, '_', '.' and '-', starting with a letter or digit")]
    [InlineData("a/b", "'a/b' is not a valid name: use letters, digits, '_', '.' and '-', starting with a letter or digit")]
    [InlineData(".hidden", "'.hidden' is not a valid name: use letters, digits, '_', '.' and '-', starting with a letter or digit")]
    [InlineData("", "the name is empty")]
    public void Invalid_resource_names_are_refused(string name, string problem)
    {
        var e = Fails(Resource($$"""{"name": "{{name}}"}"""));
        Assert.Equal("resources[0].name", e.JsonPath);
        Assert.Equal(problem, e.Problem);
    }

    [Fact]
    public void A_resource_name_may_have_100_characters_but_not_101()
    {
        var hundred = new string('a', 100);
        Assert.Equal(hundred, Parse(Resource($$"""{"name": "{{hundred}}"}""")).Resources[0].Name);

        var e = Fails(Resource($$"""{"name": "{{hundred}}b"}"""));
        Assert.Equal("the name is 101 characters long; at most 100 are allowed", e.Problem);
    }

    [Fact]
    public void A_resource_needs_a_name()
    {
        var e = Fails(Resource("""{"allow_users": ["alice"]}"""));
        Assert.Equal("resources[0]", e.JsonPath);
        Assert.Equal("a resource needs a \"name\"", e.Problem);
    }

    [Fact]
    public void Duplicate_resource_names_are_refused_naming_the_first()
    {
        var e = Fails("""
            {"resources": [
              {"name": "lan"},
              {"name": "wan"},
              {"name": "lan"}
            ]}
            """);

        Assert.Equal("resources[2].name", e.JsonPath);
        Assert.Equal((4, 12), (e.Line, e.Column));
        Assert.Equal("resource 'lan' is already defined at resources[0].name", e.Problem);
    }

    [Theory]
    [InlineData("net-porter.sock", "the socket path must be an absolute file path, found 'net-porter.sock'")]
    [InlineData("./run/net-porter.sock", "the socket path must be an absolute file path, found './run/net-porter.sock'")]
    [InlineData("/run/", "the socket path must be an absolute file path, found '/run/'")]
    [InlineData("", "the socket path must be an absolute file path, found ''")]
    public void A_socket_path_must_be_absolute(string path, string problem)
    {
        var e = Fails($$$"""{"domain_socket": {"path": "{{{path}}}"}}""");
        Assert.Equal("domain_socket.path", e.JsonPath);
        Assert.Equal(problem, e.Problem);
    }

    [Fact]
    public void A_socket_path_must_fit_a_unix_socket_address()
    {
        var fits = "/" + new string('s', 106);
        Assert.Equal(fits, Parse($$$"""{"domain_socket": {"path": "{{{fits}}}"}}""").DomainSocket.Path);

        var e = Fails($$$"""{"domain_socket": {"path": "{{{fits}}}x"}}""");
        Assert.Equal("the socket path is longer than the 107 bytes a unix socket address can hold", e.Problem);
    }

    [Theory]
    [InlineData("0660", 0b110_110_000)]
    [InlineData("660", 0b110_110_000)]
    [InlineData("0600", 0b110_000_000)]
    [InlineData("0777", 0b111_111_111)]
    public void The_socket_mode_is_octal(string mode, int expected)
    {
        Assert.Equal(expected, Parse($$$"""{"domain_socket": {"mode": "{{{mode}}}"}}""").DomainSocket.Mode);
    }

    [Theory]
    [InlineData("0999")]
    [InlineData("rw")]
    [InlineData("66")]
    [InlineData("06600")]
    [InlineData("-660")]
    [InlineData("0o660")]
    public void A_bad_socket_mode_is_refused(string mode)
    {
        var e = Fails($$$"""{"domain_socket": {"mode": "{{{mode}}}"}}""");
        Assert.Equal("domain_socket.mode", e.JsonPath);
        Assert.Equal($"expected an octal mode such as \"0660\", found '{mode}'", e.Problem);
    }

    [Fact]
    public void A_numeric_socket_mode_is_refused_because_json_numbers_are_decimal()
    {
        var e = Fails("""{"domain_socket": {"mode": 660}}""");
        Assert.Equal("expected a string, found a number", e.Problem);
    }

    [Fact]
    public void Empty_socket_owner_names_are_refused()
    {
        var e = Fails("""{"domain_socket": {"group": ""}}""");
        Assert.Equal("domain_socket.group", e.JsonPath);
        Assert.Equal("expected a name, found an empty string", e.Problem);
    }

    [Theory]
    [InlineData("trace", LogLevel.Trace)]
    [InlineData("debug", LogLevel.Debug)]
    [InlineData("info", LogLevel.Information)]
    [InlineData("Information", LogLevel.Information)]
    [InlineData("WARN", LogLevel.Warning)]
    [InlineData("warning", LogLevel.Warning)]
    [InlineData("error", LogLevel.Error)]
    public void Log_levels_are_read_case_insensitively(string level, LogLevel expected)
    {
        Assert.Equal(new LogConfig(expected, false), Parse($$$"""{"log": {"level": "{{{level}}}"}}""").Log);
    }

    [Fact]
    public void Timings_are_off_unless_log_timings_is_true()
    {
        Assert.False(Parse("""{"log": {"level": "info"}}""").Log.Timings);
        Assert.True(Parse("""{"log": {"timings": true}}""").Log.Timings);
        Assert.False(Parse("""{"log": {"timings": false}}""").Log.Timings);
    }

    [Fact]
    public void An_unknown_log_level_is_refused()
    {
        var e = Fails("""{"log": {"level": "Verbose"}}""");
        Assert.Equal("log.level", e.JsonPath);
        Assert.Equal("unknown log level 'verbose' (use trace, debug, info, warning or error)", e.Problem);
    }

    [Fact]
    public void dump_env_enabled_must_be_a_boolean()
    {
        Assert.False(Parse("""{"log": {"dump_env": {"enabled": false}}}""").Log.DumpEnv);
        Assert.False(Parse("""{"log": {"dump_env": {}}}""").Log.DumpEnv);

        var e = Fails("""{"log": {"dump_env": {"enabled": "yes"}}}""");
        Assert.Equal("log.dump_env.enabled", e.JsonPath);
        Assert.Equal("expected true or false, found a string", e.Problem);
    }

    [Fact]
    public void Comments_are_allowed()
    {
        var config = Parse("""
            {
              // the LAN
              "resources": [ /* one */ {"name": "lan", "allow_users": ["alice"]} ]
            }
            """);
        Assert.Equal("lan", Assert.Single(config.Resources).Name);
    }

    [Fact]
    public void Trailing_commas_are_refused_with_a_position()
    {
        var e = Fails("{\n  \"resources\": [],\n}");
        Assert.Equal(3, e.Line);
        Assert.StartsWith("invalid JSON: ", e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "expected an object, found an array")]
    [InlineData("""{"resources": {}}""", "expected an array, found an object")]
    [InlineData("""{"resources": [{"name": 5}]}""", "expected a string, found a number")]
    [InlineData("""{"domain_socket": "/run/x.sock"}""", "expected an object, found a string")]
    public void Wrong_types_are_refused(string json, string problem)
    {
        Assert.Equal(problem, Fails(json).Problem);
    }

    [Fact]
    public void A_null_member_counts_as_absent()
    {
        var config = Parse("""{"domain_socket": null, "resources": null, "log": null}""");
        Assert.Equal("/run/net-porter.sock", config.DomainSocket.Path);
        Assert.Empty(config.Resources);
    }

    [Fact]
    public void Load_reads_the_file_and_reports_a_missing_one_by_its_full_path()
    {
        using var dir = new TempDir();
        var path = dir.Write("config.json", CorrectedReadmeConfig);

        var config = ConfigLoader.Load(path);
        Assert.Equal(path, config.SourcePath);
        Assert.Equal(Path.Combine(dir.Path, "cni.d"), config.CniDir);

        var missing = Path.Combine(dir.Path, "absent.json");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(missing));
        Assert.Equal(missing, e.File);
        Assert.Null(e.Line);
        Assert.StartsWith($"{missing}: cannot read the configuration: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_resource_may_name_its_own_dns_servers_and_search_domains()
    {
        var config = Parse(Resource("""{"name": "lan", "allow_users": ["alice"], "dns": {"servers": ["192.168.1.53", "FD00::53"], "search": ["lan.example", "corp.example."]}}"""));

        var dns = config.Resources.Single().Dns;
        Assert.Equal(["192.168.1.53", "fd00::53"], dns.Servers.ToArray());
        Assert.Equal(["lan.example", "corp.example."], dns.Search.ToArray());
        Assert.Same(ResourceDns.None, Parse(Resource("""{"name": "lan"}""")).Resources.Single().Dns);
    }

    [Theory]
    [InlineData("""{"servers": ["dns.example"]}""", "resources[0].dns.servers[0]", "'dns.example' is not an IP address (DNS servers are given by address)")]
    [InlineData("""{"servers": ["010.1.1.1"]}""", "resources[0].dns.servers[0]", "'010.1.1.1' is not an IP address (DNS servers are given by address)")]
    [InlineData("""{"servers": ["1.1.1.1"], "search": ["bad domain"]}""", "resources[0].dns.search[0]", "'bad domain' is not a domain name")]
    [InlineData("""{"search": ["lan.example"]}""", "resources[0].dns", "\"search\" needs \"servers\" as well")]
    [InlineData("""{"server": ["1.1.1.1"]}""", "resources[0].dns.server", "unknown key 'server' (known keys: servers, search); did you mean 'servers'?")]
    public void Bad_dns_settings_are_refused_where_they_are(string dns, string path, string problem)
    {
        var e = Fails(Resource($$"""{"name": "lan", "dns": {{dns}}}"""));

        Assert.Equal(path, e.JsonPath);
        Assert.Equal(problem, e.Problem);
    }
}
