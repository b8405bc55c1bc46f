using Porter.Plugin.Cli;
using Porter.Plugin.Commands;
using Xunit;

namespace Porter.Tests.Plugin.Cli;

public sealed class CliParserTests
{
    private static ParsedArgs Attach(params string[] args) => CliParser.Parse(AttachCommand.Build(), args);

    private static string Refused(params string[] args) => Assert.Throws<CliUsageException>(() => Attach(args)).Message;

    [Fact]
    public void Options_take_values_as_separate_words_or_after_an_equals_sign_and_may_repeat()
    {
        var args = Attach("-r", "lan", "--pid=42", "--ip", "192.168.1.5/24", "--ip", "fd00::5/64", "--json");

        Assert.Equal("lan", args.Get("--resource"));
        Assert.Equal(42, args.GetInt("--pid", "a process id"));
        Assert.Equal(["192.168.1.5/24", "fd00::5/64"], args.GetAll("--ip"));
        Assert.True(args.Has("--json"));
        Assert.Equal("eth0", args.Get("--ifname"));
        Assert.False(args.Has("--netns"));
    }

    [Theory]
    [InlineData(new[] { "--pid", "1" }, "option --resource is required")]
    [InlineData(new[] { "-r", "lan" }, "give the target: --pid PID or --netns PATH")]
    [InlineData(new[] { "-r", "lan", "--pid", "1", "--netns", "/x" }, "give --pid or --netns, not both")]
    [InlineData(new[] { "-r", "lan", "--pid", "1", "--bogus" }, "unknown option '--bogus' for 'net-porter attach'")]
    [InlineData(new[] { "-r", "lan", "--pid" }, "option --pid needs a value (PID)")]
    [InlineData(new[] { "-r", "lan", "-r", "wan", "--pid", "1" }, "option --resource is given twice")]
    [InlineData(new[] { "-r", "lan", "--pid", "1", "--json=yes" }, "option --json takes no value")]
    [InlineData(new[] { "-r", "lan", "--pid", "1", "extra" }, "unexpected argument 'extra'")]
    public void Mistakes_are_named(string[] args, string message)
    {
        Assert.Equal(message, Refused(args));
    }

    [Fact]
    public void A_pid_must_be_a_positive_number()
    {
        var e = Assert.Throws<CliUsageException>(() => Attach("-r", "lan", "--pid", "-5").GetInt("--pid", "a process id"));
        Assert.Equal("--pid: '-5' is not a process id", e.Message);
    }

    [Fact]
    public void Positional_arguments_are_counted()
    {
        Assert.Equal(["web"], CliParser.Parse(NetnsCommand.Up(), ["web", "--file", "/x.json"]).Positional);
        Assert.Equal("the NAME argument is missing", Assert.Throws<CliUsageException>(() => CliParser.Parse(NetnsCommand.Down(), [])).Message);
    }

    [Fact]
    public void Help_lists_every_option_with_its_value_default_and_whether_it_is_required()
    {
        var output = new StringWriter();
        CliParser.WriteHelp(output, AttachCommand.Build());
        var help = output.ToString();

        Assert.StartsWith("Usage: net-porter attach [options]\n", help.ReplaceLineEndings("\n"));
        Assert.Contains("-r, --resource NAME", help);
        Assert.Contains("(required)", help);
        Assert.Contains("[default: eth0]", help);
        Assert.Contains("--ip ADDR", help);
        Assert.Contains("(repeatable)", help);
        Assert.Contains("-h, --help", help);
    }

    [Fact]
    public async Task The_verbs_reach_the_command_line_and_nothing_else_does()
    {
        Assert.True(CommandLineApp.Handles("attach"));
        Assert.True(CommandLineApp.Handles("netns"));
        Assert.False(CommandLineApp.Handles("setup"));
        Assert.False(CommandLineApp.Handles("info"));

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(2, await CommandLineApp.RunAsync(["netns", "sideways", "x"], stdout, stderr));
        Assert.Equal("net-porter: unknown command 'netns sideways' (see net-porter --help)\n", stderr.ToString().ReplaceLineEndings("\n"));
    }
}
