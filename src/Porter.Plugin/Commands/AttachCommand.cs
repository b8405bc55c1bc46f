using Porter.Plugin.Cli;
using Porter.Protocol;
using Porter.Protocol.V1;

namespace Porter.Plugin.Commands;

/// <summary>
/// "attach": a process's network namespace (by PID) or one bind-mounted at a path gets an interface on a resource,
/// with the same grants, address bounds and limits as a container. Prints the addresses it got.
/// </summary>
public static class AttachCommand
{
    public static CliCommand Build() => new("attach",
        "Attach a process's network namespace (--pid) or a bind-mounted one (--netns) to a resource.",
        [
            CliOptions.Resource, CliOptions.Pid("attach"), CliOptions.Netns("attach"), CliOptions.InterfaceName,
            new("--ip", "ask for this address (ADDR or ADDR/PREFIX, which static IPAM needs), within your grant's \"ips\"", "ADDR", Repeatable: true),
            new("--mac", "the interface's MAC, within your grant's \"macs\"", "MAC"),
            CliOptions.Socket, CliOptions.Json("netavark's StatusBlock"),
        ],
        RunAsync)
    {
        Validate = CliOptions.OneTarget,
    };

    private static async Task<int> RunAsync(ParsedArgs args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var request = new AttachRequest
        {
            Resource = args.Get("--resource")!,
            InterfaceName = args.Get("--ifname") ?? "",
            StaticMac = args.Get("--mac") ?? "",
        };
        if (args.GetInt("--pid", "a process id") is { } pid)
        {
            request.Pid = pid;
        }
        else
        {
            request.NetnsPath = CliOptions.AbsolutePath(args.Get("--netns")!);
        }
        request.StaticIps.AddRange(args.GetAll("--ip"));
        using var client = new PorterClient(CliOptions.LocateSocket(args.Get("--socket")), PluginContext.AttachTimeout);
        var reply = await client.AttachAsync(request, cancellationToken).ConfigureAwait(false);
        if (args.Has("--json"))
        {
            AttachOutput.PrintJson(stdout, reply.Status);
        }
        else
        {
            AttachOutput.Print(stdout, reply.Status);
        }
        return 0;
    }
}
