using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Porter.Plugin.Netavark;

/// <summary>Reads what netavark or podman pipes to the plugin, refusing oversized, empty or malformed input clearly.</summary>
public static class PluginInput
{
    public const int MaxInputBytes = 4 * 1024 * 1024;

    public static byte[] ReadAll(Stream stdin)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int n;
        while ((n = stdin.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + n > MaxInputBytes)
            {
                throw new PluginException($"the JSON on stdin is larger than {MaxInputBytes / (1024 * 1024)} MiB");
            }
            buffer.Write(chunk, 0, n);
        }
        if (buffer.Length == 0 || buffer.ToArray().All(b => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t'))
        {
            throw new PluginException("nothing on stdin: expected the network as JSON, as netavark and podman pass it");
        }
        return buffer.ToArray();
    }

    /// <summary>Deserializes with a message that says where in the input the problem is.</summary>
    public static T Parse<T>(byte[] json, JsonTypeInfo<T> type, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new PluginException($"stdin holds null instead of {what}");
        }
        catch (JsonException e)
        {
            throw new PluginException($"stdin is not valid {what} JSON: {Describe(e)}");
        }
    }

    public static string Describe(JsonException e)
    {
        var message = e.Message;
        // System.Text.Json appends its own "Path: ... | LineNumber: ..."; say it once, briefly.
        var cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut > 0)
        {
            message = message[..cut];
        }
        var where = e.Path is { Length: > 0 } path ? $" at {path}" : "";
        var line = e.LineNumber is { } l ? $" (line {l + 1}, byte {e.BytePositionInLine + 1})" : "";
        return $"{message.TrimEnd()}{where}{line}";
    }
}
