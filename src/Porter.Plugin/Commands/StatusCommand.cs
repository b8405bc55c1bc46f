using System.CommandLine;
using Porter.Plugin.Cli;
using Porter.Protocol;

namespace Porter.Plugin.Commands;

/// <summary>"status": the attachments the caller may see (root: everyone's) and the per-user counts against the limits.</summary>
public static class StatusCommand
{
    public static Command Build()
    {
        var socket = CliOptions.Socket();
        var json = CliOptions.Json("the status");
        var command = new Command("status", "Show the attachments you may see (root: every user's) and each user's counts against the limits.")
        {
            json, socket,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using var client = new PorterClient(CliOptions.SocketPath(parse, socket), PluginContext.QueryTimeout);
            var reply = await client.StatusAsync(cancellationToken).ConfigureAwait(false);
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                StatusOutput.PrintJson(stdout, reply);
            }
            else
            {
                StatusOutput.PrintTable(stdout, reply);
            }
            return 0;
        });
        return command;
    }
}
