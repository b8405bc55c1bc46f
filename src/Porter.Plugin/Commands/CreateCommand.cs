using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Porter.Plugin.Connection;
using Porter.Plugin.Netavark;
using Porter.Protocol;
using Porter.Protocol.V1;

namespace Porter.Plugin.Commands;

/// <summary>
/// "create", run by "podman network create -d net-porter": asks the server whether the resource exists and the
/// user may use it, so a mistake fails now rather than at the first container start. The network JSON is
/// echoed back with every field net-porter does not own left exactly as podman wrote it.
/// </summary>
public static class CreateCommand
{
    public static async Task<int> RunAsync(PluginContext context)
    {
        var (network, document, options) = ReadInput(context.Stdin);
        ClientTimings.Lap("input");
        using var client = new PorterClient(SocketLocator.Locate(options.Socket), PluginContext.QueryTimeout);
        var reply = await client.CreateAsync(new CreateRequest { Resource = options.Resource, Network = RequestMapping.ToProto(network) });

        Amend(document, network);
        context.Stderr.WriteLine($"net-porter: network '{network.Name}' uses resource '{reply.Resource}' ({string.Join(" + ", reply.PluginTypes)}, CNI {reply.CniVersion})");
        foreach (var warning in reply.Warnings)
        {
            context.Stderr.WriteLine($"net-porter: warning: {warning}");
        }
        PluginOutput.WriteJson(context.Stdout, Encoding.UTF8.GetBytes(document.ToJsonString()));
        ClientTimings.Lap("output");
        return 0;
    }

    /// <summary>stdin, read and checked before the server is asked (also the fuzz target's entry).</summary>
    internal static (Netavark.Network Network, JsonObject Document, NetworkOptions Options) ReadInput(Stream stdin)
    {
        var input = PluginInput.ReadAll(stdin);
        var network = PluginInput.Parse(input, NetavarkJsonContext.Default.Network, "podman network");
        return (network, ParseObject(input), NetworkOptions.From(network));
    }

    /// <summary>
    /// The one field net-porter owns: netavark runs no DNS server (aardvark) for plugin networks, so podman must not
    /// point containers at one. Explicit --dns servers need dns_enabled, and then the user's choice stands.
    /// </summary>
    public static void Amend(JsonObject document, Netavark.Network network)
    {
        if (network.NetworkDnsServers is not { Count: > 0 })
        {
            document["dns_enabled"] = false;
        }
    }

    private static JsonObject ParseObject(byte[] input)
    {
        try
        {
            // A duplicate key would otherwise throw (ArgumentException) only when the object is first changed.
            return JsonNode.Parse(input, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject
                ?? throw new PluginException("stdin is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new PluginException($"stdin is not valid podman network JSON: {PluginInput.Describe(e)}");
        }
    }
}
