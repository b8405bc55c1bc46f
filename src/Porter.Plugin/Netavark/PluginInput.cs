using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Porter.Plugin.Netavark;

/// <summary>Reads what netavark or podman pipes to the plugin, refusing oversized, empty or malformed input clearly.</summary>
public static partial class PluginInput
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
        var bytes = buffer.ToArray();
        if (bytes.All(b => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t'))
        {
            throw new PluginException("nothing on stdin: expected the network as JSON, as netavark and podman pass it");
        }
        // System.Text.Json checks UTF-8 only where it reads a string, and its JSON nodes then throw InvalidOperationException.
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            throw new PluginException($"stdin is not UTF-8 text (an invalid byte sequence at byte {InvalidUtf8At(bytes) + 1})");
        }
        return bytes;
    }

    private static int InvalidUtf8At(byte[] bytes)
    {
        var rest = bytes.AsSpan();
        while (System.Text.Rune.DecodeFromUtf8(rest, out _, out var consumed) == System.Buffers.OperationStatus.Done)
        {
            rest = rest[consumed..];
        }
        return bytes.Length - rest.Length;
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

    /// <summary>
    /// System.Text.Json's message, reworded for a podman user: JSON types instead of .NET type names, and where in
    /// the input the problem is.
    /// </summary>
    public static string Describe(JsonException e)
    {
        var line = e.LineNumber is { } l ? $" (line {l + 1}, byte {e.BytePositionInLine + 1})" : "";
        return $"{Explain(e)}{line}";
    }

    /// <summary>What was wrong, and at which JSON path, without the position (for messages that put it first).</summary>
    public static string Explain(JsonException e)
    {
        var message = e.Message;
        // System.Text.Json appends its own "Path: ... | LineNumber: ..."; say it once, briefly.
        var cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut > 0)
        {
            message = message[..cut];
        }
        message = message.TrimEnd();
        var conversion = ConversionFailure().Match(message);
        if (conversion.Success)
        {
            message = $"expected {Friendly(conversion.Groups[1].Value)}";
        }
        var missing = MissingRequired().Match(message);
        if (missing.Success)
        {
            message = $"missing required field(s) {missing.Groups[1].Value}";
        }
        var notNull = NullNotAllowed().Match(message);
        if (notNull.Success)
        {
            message = $"'{notNull.Groups[1].Value}' may not be null";
        }
        var duplicate = DuplicateKey().Match(message);
        if (duplicate.Success)
        {
            message = $"duplicate key '{duplicate.Groups[1].Value}'";
        }
        var where = e.Path is { Length: > 0 } path ? $" at {path}" : "";
        return $"{message}{where}";
    }

    private static string Friendly(string dotnetType) => dotnetType switch
    {
        "System.String" => "a string",
        "System.Boolean" => "true or false",
        "System.UInt16" => "a whole number from 0 to 65535",
        "System.Collections.Generic.List`1[System.String]" => "an array of strings",
        "System.Collections.Generic.Dictionary`2[System.String,System.String]" => "an object with string values",
        var t when t.StartsWith("System.Collections.Generic.List`1[", StringComparison.Ordinal) => "an array of objects",
        "System.Int32" => "a whole number",
        var t when t.StartsWith("Porter.Plugin.", StringComparison.Ordinal) => "an object",
        _ => "a value of another type",
    };

    [System.Text.RegularExpressions.GeneratedRegex(@"^The JSON value could not be converted to (.+)\.$")]
    private static partial System.Text.RegularExpressions.Regex ConversionFailure();

    [System.Text.RegularExpressions.GeneratedRegex(@"^JSON deserialization for type '.+' was missing required properties including: (.+)\.$")]
    private static partial System.Text.RegularExpressions.Regex MissingRequired();

    [System.Text.RegularExpressions.GeneratedRegex(@"^The property or field '(.+?)' on type '.+' doesn't allow setting null values\.")]
    private static partial System.Text.RegularExpressions.Regex NullNotAllowed();

    [System.Text.RegularExpressions.GeneratedRegex(@"^Duplicate property '(.+?)' encountered during deserialization")]
    private static partial System.Text.RegularExpressions.Regex DuplicateKey();
}
