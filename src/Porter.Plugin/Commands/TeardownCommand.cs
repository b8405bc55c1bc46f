using Porter.Plugin.Connection;
using Porter.Plugin.Netavark;
using Porter.Protocol;

namespace Porter.Plugin.Commands;

/// <summary>"teardown NETNS": detach. The namespace may already be gone; the server then releases what it can.</summary>
public static class TeardownCommand
{
    public static async Task<int> RunAsync(PluginContext context)
    {
        var netns = context.NetnsArgument("teardown");
        var exec = PluginInput.Parse(PluginInput.ReadAll(context.Stdin), NetavarkJsonContext.Default.NetworkPluginExec, "netavark plugin");
        var options = NetworkOptions.From(exec.Network);
        using var client = new PorterClient(SocketLocator.Locate(options.Socket), PluginContext.AttachTimeout);
        var reply = await client.TeardownAsync(RequestMapping.ToTeardown(exec, options.Resource, netns));
        foreach (var warning in reply.Warnings)
        {
            context.Stderr.WriteLine($"net-porter: warning: {warning}");
        }
        return 0;
    }
}
