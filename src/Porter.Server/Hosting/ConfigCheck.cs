using Microsoft.Extensions.Logging.Abstractions;
using Porter.Server.Cni.Invocation;
using Porter.Server.Cni.Runtime;
using Porter.Server.Configuration;

namespace Porter.Server.Hosting;

/// <summary>--check: validates everything the server would load, probes the plugins, and prints what it found.</summary>
public static class ConfigCheck
{
    public static async Task<int> RunAsync(ServerSnapshot snapshot, IReadOnlyList<string> warnings, TextWriter output)
    {
        var config = snapshot.Config;
        var socket = config.DomainSocket;
        output.WriteLine($"config:   {config.SourcePath}");
        output.WriteLine($"socket:   {socket.Path} ({socket.User}:{socket.Group} {Convert.ToString(socket.Mode, 8).PadLeft(4, '0')})");
        output.WriteLine($"state:    {config.StateDir}");
        output.WriteLine($"networks: {config.CniDir} ({snapshot.Networks.Count} found), plugins in {config.CniPluginDir}");

        var executor = new PluginExecutor(NullLogger<PluginExecutor>.Instance);
        var runtime = new CniRuntime(executor, new VersionNegotiator(executor), new AttachmentStore(Path.Combine(config.StateDir, "cni")),
            [], NullLogger<CniRuntime>.Instance);
        var options = CniRuntimeOptions.From(config);
        var failures = 0;
        foreach (var resource in config.Resources)
        {
            var network = snapshot.Networks[resource.Name];
            var plugins = string.Join(" + ", network.Plugins.Select(p => p.IpamType is null ? p.Type : $"{p.Type}({p.IpamType})"));
            string state;
            try
            {
                state = $"runs at CNI {await runtime.NegotiateVersionAsync(network, options, CancellationToken.None).ConfigureAwait(false)}";
            }
            catch (CniException e)
            {
                state = $"NOT USABLE: {e.Message}";
                failures++;
            }
            output.WriteLine($"resource {resource.Name}: {plugins}, {state}");
            output.WriteLine($"  users:  {(resource.AllowUsers.IsEmpty ? "-" : string.Join(", ", resource.AllowUsers))}");
            output.WriteLine($"  groups: {(resource.AllowGroups.IsEmpty ? "-" : string.Join(", ", resource.AllowGroups))}");
        }
        foreach (var warning in warnings)
        {
            output.WriteLine($"warning: {warning}");
        }
        output.WriteLine(failures == 0 ? "configuration OK" : $"{failures} resource(s) cannot be used");
        return failures == 0 ? 0 : 1;
    }
}
