using Grpc.Core;
using Porter.Plugin.Commands;
using Porter.Protocol;

namespace Porter.Plugin.Cli;

/// <summary>
/// The administrator's and user's verbs (attach, detach, netns up/down, status). The netavark verbs never come here:
/// Program dispatches them first, on argv[0] alone, so their start-up stays as it was.
/// </summary>
public static class CommandLineApp
{
    /// <summary>What argv[0] sends to this command line instead of the netavark contract.</summary>
    public static bool Handles(string verb) => verb is "attach" or "detach" or "status" or "netns" or "--help" or "-h" or "help" or "--version";

    private static IReadOnlyList<CliCommand> Commands() =>
        [AttachCommand.Build(), DetachCommand.Build(), NetnsCommand.Up(), NetnsCommand.Down(), StatusCommand.Build()];

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        var commands = Commands();
        if (args[0] is "--help" or "-h" or "help")
        {
            WriteOverview(stdout, commands);
            return 0;
        }
        if (args[0] == "--version")
        {
            stdout.WriteLine(PluginContext.Version);
            return 0;
        }
        // "netns up": two words name the command.
        var words = args[0] == "netns" && args.Count > 1 && !args[1].StartsWith('-') ? 2 : 1;
        var name = string.Join(' ', args.Take(words));
        var rest = args.Skip(words).ToList();
        var command = commands.FirstOrDefault(c => c.Name == name);
        if (command is null)
        {
            if (args[0] == "netns" && (args.Count == 1 || args[1] is "--help" or "-h"))
            {
                WriteOverview(stdout, commands.Where(c => c.Name.StartsWith("netns ", StringComparison.Ordinal)).ToList());
                return args.Count == 1 ? 2 : 0;
            }
            stderr.WriteLine($"net-porter: unknown command '{name}' (see net-porter --help)");
            return 2;
        }
        if (rest.Any(a => a is "--help" or "-h"))
        {
            CliParser.WriteHelp(stdout, command);
            return 0;
        }
        ParsedArgs parsed;
        try
        {
            parsed = CliParser.Parse(command, rest);
        }
        catch (CliUsageException e)
        {
            stderr.WriteLine($"net-porter {command.Name}: {e.Message} (see net-porter {command.Name} --help)");
            return 2;
        }
        try
        {
            return await command.Run(parsed, stdout, stderr, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            stderr.WriteLine($"net-porter: {e.Describe()}");
        }
        catch (Exception e) when (e is PluginException or CliUsageException)
        {
            stderr.WriteLine($"net-porter: {e.Message}");
        }
        return 1;
    }

    private static void WriteOverview(TextWriter stdout, IReadOnlyList<CliCommand> commands)
    {
        stdout.WriteLine("Usage: net-porter COMMAND [options]   (net-porter COMMAND --help for its options)");
        stdout.WriteLine();
        stdout.WriteLine("LAN networking for rootless podman (as netavark's plugin: info, create, setup NETNS, teardown NETNS), and for");
        stdout.WriteLine("processes and named network namespaces, through net-porter-server.");
        stdout.WriteLine();
        stdout.WriteLine("Commands:");
        var width = commands.Max(c => c.Name.Length + string.Concat(c.Arguments.Select(a => $" {a.Name}")).Length) + 2;
        foreach (var command in commands)
        {
            stdout.WriteLine($"  {(command.Name + string.Concat(command.Arguments.Select(a => $" {a.Name}"))).PadRight(width)}{command.Description}");
        }
    }
}
