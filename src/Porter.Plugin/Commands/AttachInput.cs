using Porter.Plugin.Connection;
using Porter.Plugin.Netavark;

namespace Porter.Plugin.Commands;

/// <summary>What setup and teardown both read: the netns argument, netavark's JSON, and net-porter's network options.</summary>
public sealed record AttachInput(string Netns, NetworkPluginExec Exec, NetworkOptions Options)
{
    public static AttachInput Read(PluginContext context, string verb)
    {
        var netns = context.NetnsArgument(verb);
        var exec = PluginInput.Parse(PluginInput.ReadAll(context.Stdin), NetavarkJsonContext.Default.NetworkPluginExec, "netavark plugin");
        var input = new AttachInput(netns, exec, NetworkOptions.From(exec.Network));
        Porter.Protocol.ClientTimings.Lap("input");
        return input;
    }

    public string SocketPath => SocketLocator.Locate(Options.Socket);
}
