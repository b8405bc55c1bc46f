using Porter.Plugin.Connection;
using Porter.Plugin.Netavark;

namespace Porter.Plugin.Commands;

/// <summary>"info" (or no argument): plugin metadata for netavark. Works without the server.</summary>
public static class InfoCommand
{
    public static int Run(PluginContext context)
    {
        var candidates = SocketLocator.Candidates(Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR"), SocketLocator.HostUid());
        PluginOutput.WriteJson(context.Stdout, PluginOutput.Info(PluginContext.Version, candidates[0]));
        return 0;
    }
}
