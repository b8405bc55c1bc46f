using System.CommandLine;
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
    public static Command Build()
    {
        var resource = CliOptions.Resource();
        var pid = CliOptions.Pid("attach");
        var netns = CliOptions.Netns("attach");
        var ifname = CliOptions.InterfaceName();
        var ips = new Option<string[]>("--ip")
        {
            Description = "ask for this address (repeatable; ADDR or ADDR/PREFIX, which static IPAM needs), within your grant's \"ips\"",
            HelpName = "ADDR",
        };
        var mac = new Option<string>("--mac") { Description = "the interface's MAC, within your grant's \"macs\"", HelpName = "MAC" };
        var socket = CliOptions.Socket();
        var json = CliOptions.Json("netavark's StatusBlock");
        var command = new Command("attach", "Attach a process's network namespace (--pid) or a bind-mounted one (--netns) to a resource.")
        {
            resource, pid, netns, ifname, ips, mac, socket, json,
        };
        CliOptions.RequireOneTarget(command, pid, netns);
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var request = new AttachRequest
            {
                Resource = parse.GetRequiredValue(resource),
                InterfaceName = parse.GetValue(ifname) ?? "",
                StaticMac = parse.GetValue(mac) ?? "",
            };
            if (parse.GetResult(pid) is not null)
            {
                request.Pid = parse.GetValue(pid);
            }
            else
            {
                request.NetnsPath = CliOptions.AbsolutePath(parse.GetRequiredValue(netns));
            }
            request.StaticIps.AddRange(parse.GetValue(ips) ?? []);
            using var client = new PorterClient(CliOptions.SocketPath(parse, socket), PluginContext.AttachTimeout);
            var reply = await client.AttachAsync(request, cancellationToken).ConfigureAwait(false);
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                AttachOutput.PrintJson(stdout, reply.Status);
            }
            else
            {
                AttachOutput.Print(stdout, reply.Status);
            }
            return 0;
        });
        return command;
    }
}
