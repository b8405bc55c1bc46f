using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Porter.Server.Cni.Config;
using Porter.Server.Cni.Invocation;
using Porter.Server.Cni.Types;
using Porter.Server.Diagnostics;

namespace Porter.Server.Cni.Runtime;

/// <summary>
/// How plugins are run, from the configuration snapshot a request began with: one request never mixes two
/// configurations, even when a reload swaps the snapshot while its plugins run.
/// </summary>
public sealed record CniRuntimeOptions(string PluginDir, TimeSpan PluginTimeout, bool DumpEnv)
{
    public static CniRuntimeOptions From(Configuration.ServerConfig config) => new(config.CniPluginDir, config.PluginTimeout, config.Log.DumpEnv);
}

/// <summary>
/// Runs network configuration lists the way the CNI spec asks of a runtime (modelled on libcni): ADD in order
/// with prevResult chaining, DEL in reverse with the cached result, name/cniVersion/runtimeConfig injected per plugin.
/// It alone writes the attachment records (<see cref="AttachmentStore"/>), and records progress after every plugin so that
/// a crash mid-ADD can be undone.
/// </summary>
public sealed class CniRuntime(
    PluginExecutor executor,
    VersionNegotiator negotiator,
    AttachmentStore store,
    IEnumerable<IListPreparer> preparers,
    ILogger<CniRuntime> logger)
{
    /// <summary>The attachments this runtime remembers (read, list, and the few changes others may ask for).</summary>
    public AttachmentStore Attachments => store;

    /// <summary>The plugin binary for a type, which must be a regular executable file in the plugin directory.</summary>
    public static string LocatePlugin(string type, CniRuntimeOptions options)
    {
        var dir = options.PluginDir;
        if (!CniNames.IsValidPluginType(type))
        {
            throw new CniException($"'{type}' is not a valid CNI plugin type");
        }
        var path = Path.Combine(dir, type);
        var info = new FileInfo(path);
        if (!info.Exists || (info.UnixFileMode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
        {
            throw new CniException($"CNI plugin '{type}' is not installed: no executable {path}");
        }
        return path;
    }

    public Task<string> NegotiateVersionAsync(NetworkConfigList list, CniRuntimeOptions options, CancellationToken cancellationToken) =>
        negotiator.NegotiateAsync(list, type => LocatePlugin(type, options), options.PluginTimeout, cancellationToken);

    /// <summary>
    /// ADD the whole list. The record is written before the first plugin runs and after each one, so on failure (or a
    /// crash) it holds the partial result; the caller must then DEL to undo what was done.
    /// </summary>
    public async Task<CniResult> AddNetworkListAsync(NetworkConfigList list, RuntimeConf rt, AttachmentFacts facts, CniRuntimeOptions options,
        CancellationToken cancellationToken)
    {
        var version = await NegotiateVersionAsync(list, options, cancellationToken).ConfigureAwait(false);
        await PrepareAsync(list, cancellationToken).ConfigureAwait(false);
        RequestTimings.Lap("version+prepare");
        var entry = new AttachmentRecord
        {
            Id = new RecordId(list.Name, rt.ContainerId, rt.IfName),
            Config = list.Bytes,
            NetNs = rt.NetNs,
            CniArgs = rt.Args,
            CapabilityArgs = rt.CapabilityArgs,
            ConfigArgs = rt.ConfigArgs,
            Facts = facts,
            Complete = false,
        };
        // Durable before any plugin runs: what a plugin leaves on disk (host-local's allocations) must never outlive
        // a machine crash without a record to release it. The later writes only replace it (fsync of the file, not the
        // directory): after a crash the name holds one of the versions, and any of them releases everything.
        store.Write(entry, Durability.Durable);

        JsonObject? previous = null;
        for (var i = 0; i < list.Plugins.Length; i++)
        {
            var plugin = list.Plugins[i];
            var stdin = BuildPluginConfig(list, plugin, i, version, rt, previous);
            var output = await InvokeAsync(plugin.Type, "ADD", rt, stdin, options, cancellationToken).ConfigureAwait(false);
            previous = ParseResultObject(plugin, output);
            entry = entry with { Result = previous };
            if (i < list.Plugins.Length - 1)
            {
                store.Write(entry, Durability.Replace);
            }
        }
        // The last plugin's result and the completion in one write.
        CniResult result;
        try
        {
            result = ParseResult(list.Plugins[^1], previous!);
        }
        catch (CniException)
        {
            store.Write(entry, Durability.Replace); // incomplete, with the result the rollback's DEL needs
            throw;
        }
        store.Write(entry with { Complete = true }, Durability.Replace);
        return result;
    }

    /// <summary>
    /// DEL the list in reverse order with the cached result as prevResult, then forget the attachment. Stops at the
    /// first failure and keeps the record, so that the DEL can be tried again.
    /// </summary>
    public Task DelNetworkListAsync(NetworkConfigList list, RuntimeConf rt, CniRuntimeOptions options, CancellationToken cancellationToken) =>
        RunDelAsync(list, rt, options, strict: true, cancellationToken);

    /// <summary>
    /// DEL as far as it goes, for when a strict DEL failed or must not be allowed to block: every plugin is tried even
    /// after one fails, and when the main plugin cannot do its DEL (its master NIC vanished, say) its IPAM plugin is
    /// asked directly to release the addresses. The attachment is forgotten in any case; what could not be released
    /// is returned, for the caller to report.
    /// </summary>
    public Task<IReadOnlyList<string>> ReleaseNetworkListAsync(NetworkConfigList list, RuntimeConf rt, CniRuntimeOptions options, CancellationToken cancellationToken) =>
        RunDelAsync(list, rt, options, strict: false, cancellationToken);

    private async Task<IReadOnlyList<string>> RunDelAsync(NetworkConfigList list, RuntimeConf rt, CniRuntimeOptions options, bool strict, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var id = new RecordId(list.Name, rt.ContainerId, rt.IfName);
        var cached = store.Read(id);
        string version;
        try
        {
            version = await NegotiateVersionAsync(list, options, cancellationToken).ConfigureAwait(false);
            await PrepareAsync(list, cancellationToken).ConfigureAwait(false);
            RequestTimings.Lap("version+prepare");
        }
        catch (CniException e) when (!strict)
        {
            problems.Add(e.Message);
            version = CniVersion.TryParse(list.CniVersion, out var v) && v > new CniVersion(1, 0, 0) ? "1.0.0" : list.CniVersion;
        }
        for (var i = list.Plugins.Length - 1; i >= 0; i--)
        {
            var plugin = list.Plugins[i];
            var stdin = BuildPluginConfig(list, plugin, i, version, rt, cached?.Result);
            try
            {
                await InvokeAsync(plugin.Type, "DEL", rt, stdin, options, cancellationToken).ConfigureAwait(false);
            }
            catch (CniException e) when (!strict)
            {
                problems.Add(e.Message);
                if (plugin.IpamType is { } ipam)
                {
                    try
                    {
                        // IPAM plugins take their parent's configuration, as when the parent delegates to them.
                        await InvokeAsync(ipam, "DEL", rt, stdin, options, cancellationToken).ConfigureAwait(false);
                    }
                    catch (CniException ipamError)
                    {
                        problems.Add(ipamError.Message);
                    }
                }
            }
        }
        store.Delete(id);
        return problems;
    }

    /// <summary>
    /// Runs the main plugin's IPAM ADD again for an existing attachment — after the DHCP daemon restarted and forgot
    /// its leases — and returns the result (the same address, when the DHCP server keys leases by client id).
    /// </summary>
    public async Task<CniResult> ReacquireIpamAsync(NetworkConfigList list, RuntimeConf rt, CniRuntimeOptions options, CancellationToken cancellationToken)
    {
        var main = list.MainPlugin;
        var ipam = main.IpamType ?? throw new CniException($"network '{list.Name}' has no IPAM to re-acquire");
        var version = await NegotiateVersionAsync(list, options, cancellationToken).ConfigureAwait(false);
        await PrepareAsync(list, cancellationToken).ConfigureAwait(false);
        var stdin = BuildPluginConfig(list, main, 0, version, rt, prevResult: null);
        var output = await InvokeAsync(ipam, "ADD", rt, stdin, options, cancellationToken).ConfigureAwait(false);
        return ParseResult(main, ParseResultObject(main, output));
    }

    private async Task PrepareAsync(NetworkConfigList list, CancellationToken cancellationToken)
    {
        foreach (var preparer in preparers)
        {
            await preparer.PrepareAsync(list, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The stdin of one plugin: its own object with the list's name and the negotiated cniVersion, runtimeConfig for
    /// the capabilities it declares, and prevResult. "capabilities" itself is removed as the spec asks.
    /// </summary>
    public static byte[] BuildPluginConfig(NetworkConfigList list, PluginConfig plugin, int index, string version, RuntimeConf rt, JsonObject? prevResult)
    {
        var conf = plugin.ToJsonObject();
        conf["name"] = list.Name;
        conf["cniVersion"] = version;
        conf.Remove("capabilities");
        var runtimeConfig = new JsonObject();
        foreach (var (capability, enabled) in plugin.Capabilities.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (enabled && rt.CapabilityArgs.TryGetValue(capability, out var value))
            {
                runtimeConfig[capability] = value.DeepClone();
            }
        }
        if (runtimeConfig.Count > 0)
        {
            conf["runtimeConfig"] = runtimeConfig;
        }
        else
        {
            conf.Remove("runtimeConfig");
        }
        if (index == 0 && !rt.ConfigArgs.IsEmpty)
        {
            var args = conf["args"] as JsonObject ?? [];
            var cni = args["cni"] as JsonObject ?? [];
            foreach (var (key, value) in rt.ConfigArgs)
            {
                cni[key] = value.DeepClone();
            }
            args["cni"] = cni;
            conf["args"] = args;
        }
        if (prevResult is not null)
        {
            conf["prevResult"] = prevResult.DeepClone();
        }
        else
        {
            conf.Remove("prevResult");
        }
        return Encoding.UTF8.GetBytes(conf.ToJsonString());
    }

    private async Task<byte[]> InvokeAsync(string type, string command, RuntimeConf rt, byte[] stdin, CniRuntimeOptions settings,
        CancellationToken cancellationToken)
    {
        KeyValuePair<string, string>[] environment =
        [
            new("CNI_COMMAND", command),
            new("CNI_CONTAINERID", rt.ContainerId),
            new("CNI_NETNS", rt.NetNs),
            new("CNI_IFNAME", rt.IfName),
            new("CNI_ARGS", rt.FormatCniArgs()),
            new("CNI_PATH", settings.PluginDir),
            new("PATH", Native.SystemPaths.Search),
        ];
        if (settings.DumpEnv)
        {
            logger.LogInformation("exec {Type} {Command}: {Env} stdin={Stdin}", type, command,
                string.Join(' ', environment.Select(kv => $"{kv.Key}={kv.Value}")), Encoding.UTF8.GetString(stdin));
        }
        var invocation = new PluginInvocation(type, LocatePlugin(type, settings), command, environment, stdin, settings.PluginTimeout);
        RequestTimings.Lap("plugin input");
        var output = await executor.ExecAsync(invocation, cancellationToken).ConfigureAwait(false);
        RequestTimings.Lap(static p => $"{p.Type} {p.Command}", (Type: type, Command: command));
        return output;
    }

    private static JsonObject ParseResultObject(PluginConfig plugin, byte[] output)
    {
        try
        {
            return CniResult.ReadObject(output);
        }
        catch (FormatException e)
        {
            throw new CniException($"CNI plugin '{plugin.Type}' returned an unreadable result: {e.Message}", e);
        }
    }

    private static CniResult ParseResult(PluginConfig plugin, JsonObject raw)
    {
        try
        {
            return CniResult.Parse(raw);
        }
        catch (FormatException e)
        {
            throw new CniException($"CNI plugin '{plugin.Type}' returned a malformed result: {e.Message}", e);
        }
    }
}
