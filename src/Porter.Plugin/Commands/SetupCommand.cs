using Porter.Plugin.Connection;
using Porter.Plugin.Netavark;
using Porter.Protocol;

namespace Porter.Plugin.Commands;

/// <summary>"setup NETNS": attach the container's namespace and print the StatusBlock netavark expects.</summary>
public static class SetupCommand
{
    public static async Task<int> RunAsync(PluginContext context)
    {
        var netns = context.NetnsArgument("setup");
        var exec = PluginInput.Parse(PluginInput.ReadAll(context.Stdin), NetavarkJsonContext.Default.NetworkPluginExec, "netavark plugin");
        var options = NetworkOptions.From(exec.Network);
        using var client = new PorterClient(SocketLocator.Locate(options.Socket), PluginContext.AttachTimeout);
        var reply = await client.SetupAsync(RequestMapping.ToSetup(exec, options.Resource, netns));
        PluginOutput.WriteJson(context.Stdout, PluginOutput.StatusBlock(reply.Status));
        return 0;
    }
}
