using System.Text;
using System.Text.Json;
using Porter.Protocol.V1;

namespace Porter.Plugin.Netavark;

/// <summary>
/// Everything the plugin writes to stdout: exactly one JSON document (netavark parses stdout whole), written
/// in one go at the end so that a failure can never leave half a document behind.
/// </summary>
public static class PluginOutput
{
    public static void WriteJson(Stream stdout, byte[] json)
    {
        stdout.Write(json);
        stdout.Write("\n"u8);
        stdout.Flush();
    }

    /// <summary>{"error": "..."} — the only error shape netavark and podman accept.</summary>
    public static byte[] Error(string message) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("error", message);
        w.WriteEndObject();
    });

    /// <summary>netavark's StatusBlock; all fields present, gateways null when absent, as netavark's macvlan writes it.</summary>
    public static byte[] StatusBlock(StatusBlock status) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("dns_search_domains");
        foreach (var domain in status.DnsSearchDomains)
        {
            w.WriteStringValue(domain);
        }
        w.WriteEndArray();
        w.WriteStartArray("dns_server_ips");
        foreach (var server in status.DnsServerIps)
        {
            w.WriteStringValue(server);
        }
        w.WriteEndArray();
        w.WriteStartObject("interfaces");
        foreach (var (name, iface) in status.Interfaces.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            w.WriteStartObject(name);
            w.WriteString("mac_address", iface.MacAddress);
            w.WriteStartArray("subnets");
            foreach (var address in iface.Subnets)
            {
                w.WriteStartObject();
                w.WriteString("ipnet", address.Ipnet);
                if (address.Gateway.Length > 0)
                {
                    w.WriteString("gateway", address.Gateway);
                }
                else
                {
                    w.WriteNull("gateway");
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    });

    /// <summary>The answer to "info" (netavark's plugin API version is 1.0.0).</summary>
    public static byte[] Info(string version, string defaultSocket) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("version", version);
        w.WriteString("api_version", "1.0.0");
        w.WriteString("description", "net-porter: LAN networking (macvlan, ipvlan, bridge) for rootless podman through net-porter-server");
        w.WriteString("protocol", Porter.Protocol.PorterApi.ServiceName);
        w.WriteString("default_socket", defaultSocket);
        w.WriteEndObject();
    });

    /// <summary>One JSON document, written by <paramref name="body"/> (UTF-8, non-ASCII left as it is).</summary>
    public static byte[] Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            body(writer);
        }
        return buffer.ToArray();
    }
}
