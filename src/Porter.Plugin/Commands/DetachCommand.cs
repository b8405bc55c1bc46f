using Porter.Plugin.Cli;
using Porter.Protocol;
using Porter.Protocol.V1;

namespace Porter.Plugin.Commands;

/// <summary>"detach": undoes an attach, named by the same target, resource and interface. Warnings go to stderr.</summary>
public static class DetachCommand
{
    public static CliCommand Build() => new("detach",
        "Detach what attach attached (the same --pid or --netns, resource and interface).",
        [CliOptions.Resource, CliOptions.Pid("detach"), CliOptions.Netns("detach"), CliOptions.InterfaceName, CliOptions.Socket],
        RunAsync)
    {
        Validate = CliOptions.OneTarget,
    };

    private static async Task<int> RunAsync(ParsedArgs args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var request = new DetachRequest { Resource = args.Get("--resource")!, InterfaceName = args.Get("--ifname") ?? "" };
        if (args.GetInt("--pid", "a process id") is { } pid)
        {
            request.Pid = pid;
        }
        else
        {
            request.NetnsPath = CliOptions.AbsolutePath(args.Get("--netns")!);
        }
        using var client = new PorterClient(CliOptions.LocateSocket(args.Get("--socket")), PluginContext.AttachTimeout);
        var reply = await client.DetachAsync(request, cancellationToken).ConfigureAwait(false);
        foreach (var warning in reply.Warnings)
        {
            stderr.WriteLine($"net-porter: warning: {warning}");
        }
        return 0;
    }
}
