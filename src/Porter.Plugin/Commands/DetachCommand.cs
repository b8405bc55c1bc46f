using System.CommandLine;
using Porter.Plugin.Cli;
using Porter.Protocol;
using Porter.Protocol.V1;

namespace Porter.Plugin.Commands;

/// <summary>"detach": undoes an attach, named by the same target, resource and interface. Warnings go to stderr.</summary>
public static class DetachCommand
{
    public static Command Build()
    {
        var resource = CliOptions.Resource();
        var pid = CliOptions.Pid("detach");
        var netns = CliOptions.Netns("detach");
        var ifname = CliOptions.InterfaceName();
        var socket = CliOptions.Socket();
        var command = new Command("detach", "Detach what attach attached (the same --pid or --netns, resource and interface).")
        {
            resource, pid, netns, ifname, socket,
        };
        CliOptions.RequireOneTarget(command, pid, netns);
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var request = new DetachRequest { Resource = parse.GetRequiredValue(resource), InterfaceName = parse.GetValue(ifname) ?? "" };
            if (parse.GetResult(pid) is not null)
            {
                request.Pid = parse.GetValue(pid);
            }
            else
            {
                request.NetnsPath = CliOptions.AbsolutePath(parse.GetRequiredValue(netns));
            }
            using var client = new PorterClient(CliOptions.SocketPath(parse, socket), PluginContext.AttachTimeout);
            var reply = await client.DetachAsync(request, cancellationToken).ConfigureAwait(false);
            foreach (var warning in reply.Warnings)
            {
                parse.InvocationConfiguration.Error.WriteLine($"net-porter: warning: {warning}");
            }
            return 0;
        });
        return command;
    }
}
