using Porter.Plugin.Connection;
using Porter.Plugin.Netavark;
using Porter.Protocol;

namespace Porter.Plugin.Commands;

/// <summary>"setup NETNS": attach the container's namespace and print the StatusBlock netavark expects.</summary>
public static class SetupCommand
{
    public static async Task<int> RunAsync(PluginContext context)
    {
        var input = AttachInput.Read(context, "setup");
        using var client = new PorterClient(input.SocketPath, PluginContext.AttachTimeout);
        var reply = await client.SetupAsync(RequestMapping.ToSetup(input.Exec, input.Options.Resource, input.Netns));
        PluginOutput.WriteJson(context.Stdout, PluginOutput.StatusBlock(reply.Status));
        ClientTimings.Lap("output");
        return 0;
    }
}
