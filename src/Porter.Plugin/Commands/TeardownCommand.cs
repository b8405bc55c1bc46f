using Porter.Plugin.Connection;
using Porter.Protocol;

namespace Porter.Plugin.Commands;

/// <summary>"teardown NETNS": detach. The namespace may already be gone; the server then releases what it can.</summary>
public static class TeardownCommand
{
    public static async Task<int> RunAsync(PluginContext context)
    {
        var input = AttachInput.Read(context, "teardown");
        using var client = new PorterClient(input.SocketPath, PluginContext.AttachTimeout);
        var reply = await client.TeardownAsync(RequestMapping.ToTeardown(input.Exec, input.Options.Resource, input.Netns));
        foreach (var warning in reply.Warnings)
        {
            context.Stderr.WriteLine($"net-porter: warning: {warning}");
        }
        ClientTimings.Lap("output");
        return 0;
    }
}
