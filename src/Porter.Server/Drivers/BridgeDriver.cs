using System.Text.Json;
using Porter.Server.Cni.Config;

namespace Porter.Server.Drivers;

/// <summary>
/// bridge: a veth into a host bridge that all of the resource's attachments share (the plugin creates it on first use;
/// net-porter removes it with the last one).
/// </summary>
public sealed class BridgeDriver(string bridge) : IInterfaceDriver
{
    /// <summary>The bridge plugin's default bridge name.</summary>
    public const string DefaultBridge = "cni0";

    public static BridgeDriver For(PluginConfig main) =>
        new(main.Json.TryGetProperty("bridge", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString()! : DefaultBridge);

    public string Kind => "bridge";
    public bool HasOwnMac => true;
    public string? HostBridge => bridge;
}
