using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Porter.Plugin.Netavark;

namespace Porter.Plugin.Netns;

/// <summary>
/// /etc/net-porter/netns/NAME.json: what `netns up NAME` attaches, and whether it may adopt a namespace of that name
/// that net-porter did not make. Errors say FILE:LINE:COLUMN and what was expected there.
/// </summary>
public sealed class NetnsFile
{
    public const string Directory = "/etc/net-porter/netns";
    public const int MaxBytes = 1024 * 1024;

    [JsonPropertyName("attachments")]
    public required List<NetnsAttachment> Attachments { get; init; }

    /// <summary>Attach into /run/netns/NAME even if net-porter did not make it (down then leaves it in place).</summary>
    [JsonPropertyName("adopt")]
    public bool Adopt { get; init; }

    public static string DefaultPath(string name) => Path.Combine(Directory, $"{name}.json");

    public static NetnsFile Load(string path)
    {
        byte[] bytes;
        try
        {
            using var stream = File.OpenRead(path);
            if (stream.Length > MaxBytes)
            {
                throw new PluginException($"{path}: larger than {MaxBytes / 1024} KiB");
            }
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new PluginException($"{path} does not exist: write the namespace's attachments there ({{\"attachments\": [{{\"resource\": \"NAME\"}}]}}), or name another file with --file");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PluginException($"cannot read {path}: {e.Message}");
        }
        return Parse(bytes, path);
    }

    public static NetnsFile Parse(byte[] bytes, string path)
    {
        NetnsFile? file;
        try
        {
            file = JsonSerializer.Deserialize(bytes, NetnsFileJsonContext.Default.NetnsFile);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $"{path}:{line + 1}:{e.BytePositionInLine + 1}" : path;
            throw new PluginException($"{where}: {Explain(e)}");
        }
        if (file is null)
        {
            throw new PluginException($"{path}:1:1: expected an object ({{\"attachments\": [...]}}), not null");
        }
        var starts = AttachmentPositions(bytes);
        string At(int i) => i < starts.Count ? $"{path}:{starts[i]}" : path;
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < file.Attachments.Count; i++)
        {
            var attachment = file.Attachments[i] ?? throw new PluginException($"{At(i)}: attachments[{i}] is null; expected an object");
            if (string.IsNullOrEmpty(attachment.Resource))
            {
                throw new PluginException($"{At(i)}: attachments[{i}].resource is empty; expected the name of a server resource");
            }
            var ifname = attachment.InterfaceName ?? "eth0";
            if (seen.TryGetValue(ifname, out var other))
            {
                throw new PluginException($"{At(i)}: attachments[{i}] uses interface {ifname}, which attachments[{other}] uses already; give it another \"ifname\"");
            }
            seen[ifname] = i;
        }
        return file;
    }

    /// <summary>System.Text.Json's complaint in the file's words.</summary>
    private static string Explain(JsonException e)
    {
        var message = PluginInput.Explain(e);
        // A wrongly typed value is reported against the object that holds it; say what the key itself wants.
        var key = e.Path?.Split('.').LastOrDefault()?.Split('[')[0];
        if (message.StartsWith("expected ", StringComparison.Ordinal) && key is not null && Expected(key) is { } wanted && !e.Path!.EndsWith(']'))
        {
            return $"expected {wanted} at {e.Path}";
        }
        const string unmapped = "could not be mapped to any .NET member";
        if (message.Contains(unmapped, StringComparison.Ordinal))
        {
            var field = e.Path?.Split('.').LastOrDefault() ?? "?";
            var expected = e.Path?.Contains("attachments[", StringComparison.Ordinal) == true ? "resource, ifname, ips, mac" : "attachments, adopt";
            return $"unknown key '{field}' at {e.Path} (expected {expected})";
        }
        return message;
    }

    private static string? Expected(string key) => key switch
    {
        "resource" or "ifname" or "mac" => "a string",
        "ips" => "an array of strings",
        "adopt" => "true or false",
        "attachments" => "an array of objects",
        _ => null,
    };

    /// <summary>"LINE:COLUMN" of each attachments[i] object, for messages about an entry as a whole.</summary>
    private static List<string> AttachmentPositions(byte[] bytes)
    {
        var positions = new List<string>();
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        var inAttachments = false;
        while (reader.Read())
        {
            if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName)
            {
                inAttachments = reader.ValueTextEquals("attachments"u8);
            }
            else if (inAttachments && reader.CurrentDepth == 2 && reader.TokenType == JsonTokenType.StartObject)
            {
                positions.Add(LineAndColumn(bytes, (int)reader.TokenStartIndex));
                reader.Skip();
            }
        }
        return positions;
    }

    private static string LineAndColumn(byte[] bytes, int offset)
    {
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < offset; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return $"{line}:{offset - lineStart + 1}";
    }
}

public sealed class NetnsAttachment
{
    [JsonPropertyName("resource")]
    public required string Resource { get; init; }

    [JsonPropertyName("ifname")]
    public string? InterfaceName { get; init; }

    [JsonPropertyName("ips")]
    public List<string>? Ips { get; init; }

    [JsonPropertyName("mac")]
    public string? Mac { get; init; }
}

[JsonSourceGenerationOptions(
    AllowTrailingCommas = false,
    ReadCommentHandling = JsonCommentHandling.Skip,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(NetnsFile))]
internal sealed partial class NetnsFileJsonContext : JsonSerializerContext;
