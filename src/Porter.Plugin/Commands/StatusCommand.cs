using Porter.Plugin.Cli;
using Porter.Protocol;

namespace Porter.Plugin.Commands;

/// <summary>"status": the attachments the caller may see (root: everyone's) and the per-user counts against the limits.</summary>
public static class StatusCommand
{
    public static CliCommand Build() => new("status",
        "Show the attachments you may see (root: every user's) and each user's counts against the limits.",
        [CliOptions.Json("the status"), CliOptions.Socket],
        RunAsync);

    private static async Task<int> RunAsync(ParsedArgs args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        using var client = new PorterClient(CliOptions.LocateSocket(args.Get("--socket")), PluginContext.QueryTimeout);
        var reply = await client.StatusAsync(cancellationToken).ConfigureAwait(false);
        if (args.Has("--json"))
        {
            StatusOutput.PrintJson(stdout, reply);
        }
        else
        {
            StatusOutput.PrintTable(stdout, reply);
        }
        return 0;
    }
}
