using Porter.Server.Hosting;
using Xunit;

namespace Porter.Tests.Server.Hosting;

public sealed class CommandLineTests
{
    [Fact]
    public void No_arguments_run_the_server_with_the_default_configuration()
    {
        Assert.Equal(new CommandLine("/etc/net-porter/config.json", false, false, false), CommandLine.Parse([]));
    }

    [Theory]
    [InlineData("--config", "/srv/config.json")]
    [InlineData("-c", "/srv/config.json")]
    public void The_configuration_path_may_follow_the_option(string option, string path)
    {
        Assert.Equal(new CommandLine(path, false, false, false), CommandLine.Parse([option, path]));
    }

    [Fact]
    public void The_configuration_path_may_be_joined_with_an_equals_sign()
    {
        Assert.Equal(new CommandLine("relative/config.json", true, false, false), CommandLine.Parse(["--config=relative/config.json", "--check"]));
    }

    [Fact]
    public void Flags_are_read_in_any_order()
    {
        Assert.Equal(new CommandLine("/x.json", true, true, true), CommandLine.Parse(["--help", "--check", "--config", "/x.json", "--version"]));
        Assert.True(CommandLine.Parse(["-h"]).ShowHelp);
        Assert.True(CommandLine.Parse(["--check"]).CheckOnly);
    }

    [Fact]
    public void The_last_config_wins()
    {
        Assert.Equal("/b.json", CommandLine.Parse(["--config", "/a.json", "--config=/b.json"]).ConfigPath);
    }

    [Theory]
    [InlineData("--config")]
    [InlineData("-c")]
    public void A_config_option_without_a_path_is_refused(string option)
    {
        var e = Assert.Throws<ArgumentException>(() => CommandLine.Parse(["--check", option]));
        Assert.Equal($"{option} needs a path", e.Message);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--Check")]
    [InlineData("check")]
    [InlineData("")]
    public void An_unknown_argument_is_refused(string argument)
    {
        var e = Assert.Throws<ArgumentException>(() => CommandLine.Parse([argument]));
        Assert.Equal($"unknown argument '{argument}'", e.Message);
    }

    [Fact]
    public void The_usage_names_every_option()
    {
        foreach (var option in new[] { "--config PATH", "--check", "--version", "--help" })
        {
            Assert.Contains(option, CommandLine.Usage, StringComparison.Ordinal);
        }
    }
}
