using System.CommandLine;
using Grpc.Core;
using Porter.Plugin.Commands;
using Porter.Protocol;

namespace Porter.Plugin.Cli;

/// <summary>
/// The administrator's and user's verbs (attach, detach, netns up/down, status), parsed with System.CommandLine. The
/// netavark verbs never come here: Program dispatches them first, on argv[0] alone, so their start-up stays as it was.
/// </summary>
public static class CommandLineApp
{
    /// <summary>What argv[0] sends to this parser instead of the netavark contract.</summary>
    public static bool Handles(string verb) => verb is "attach" or "detach" or "status" or "netns" or "--help" or "-h" or "-?" or "--version";

    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand(
            "net-porter: LAN networking for rootless podman (as netavark's plugin: info, create, setup, teardown), and for " +
            "processes and named network namespaces (the commands below), through net-porter-server.")
        {
            AttachCommand.Build(),
            DetachCommand.Build(),
            NetnsCommand.Build(),
            StatusCommand.Build(),
        };
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false }, cancellationToken);
    }

    /// <summary>Runs a verb's work; every failure is one line on stderr ("net-porter: ...") and exit 1.</summary>
    public static void SetGuardedAction(this Command command, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            try
            {
                return await action(parse, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException e)
            {
                stderr.WriteLine($"net-porter: {e.Describe()}");
            }
            catch (PluginException e)
            {
                stderr.WriteLine($"net-porter: {e.Message}");
            }
            return 1;
        });
}
