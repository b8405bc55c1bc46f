using System.Text;
using System.Text.Json;

namespace Porter.Server.Json;

/// <summary>
/// A parsed JSON file that remembers where every value stood, so that errors found after parsing
/// (a wrong type, an unknown key) can still point at a line and column.
/// </summary>
public sealed class JsonSource : IDisposable
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = false,
        MaxDepth = 32,
    };

    private readonly Dictionary<string, long> _offsets;
    private readonly int[] _lineStarts;

    private JsonSource(string file, byte[] bytes, JsonDocument document, Dictionary<string, long> offsets)
    {
        File = file;
        Bytes = bytes;
        Document = document;
        _offsets = offsets;
        _lineStarts = LineStarts(bytes);
    }

    public string File { get; }
    public byte[] Bytes { get; }
    public JsonDocument Document { get; }
    public ConfigNode Root => new(Document.RootElement, "", this);

    /// <summary>Parses the bytes, reporting syntax errors with line, column and what the parser expected.</summary>
    public static JsonSource Parse(string file, byte[] bytes)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, DocumentOptions);
        }
        catch (JsonException e)
        {
            var line = e.LineNumber is { } l ? (int)l + 1 : (int?)null;
            var column = e.BytePositionInLine is { } c ? (int)c + 1 : (int?)null;
            throw new ConfigException(file, line, column, null, $"invalid JSON: {StripPosition(e.Message)}", e);
        }
        return new JsonSource(file, bytes, document, IndexOffsets(bytes));
    }

    public (int Line, int Column)? PositionOf(string path)
    {
        if (!_offsets.TryGetValue(path, out var offset))
        {
            return null;
        }
        var index = Array.BinarySearch(_lineStarts, (int)offset);
        if (index < 0)
        {
            index = ~index - 1;
        }
        return (index + 1, (int)offset - _lineStarts[index] + 1);
    }

    public ConfigException Error(string path, string problem)
    {
        var position = PositionOf(path);
        return new ConfigException(File, position?.Line, position?.Column, path.Length == 0 ? null : path, problem);
    }

    public void Dispose() => Document.Dispose();

    /// <summary>System.Text.Json appends "Path: $ | LineNumber: n | BytePositionInLine: m."; the caller prints those itself.</summary>
    private static string StripPosition(string message)
    {
        foreach (var marker in new[] { " Path: ", " LineNumber: " })
        {
            var i = message.IndexOf(marker, StringComparison.Ordinal);
            if (i > 0)
            {
                message = message[..i];
            }
        }
        return message.TrimEnd();
    }

    private static int[] LineStarts(byte[] bytes)
    {
        var starts = new List<int> { 0 };
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                starts.Add(i + 1);
            }
        }
        return starts.ToArray();
    }

    /// <summary>Walks the tokens once and records the byte offset of every value under its path.</summary>
    private static Dictionary<string, long> IndexOffsets(byte[] bytes)
    {
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 32 });
        // Each open container: its path, whether it is an array, and the next element index.
        var stack = new Stack<(string Path, bool IsArray, int Next)>();
        string? pendingProperty = null;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                pendingProperty = reader.GetString();
                continue;
            }
            if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
            {
                stack.Pop();
                continue;
            }
            string path;
            if (stack.Count == 0)
            {
                path = "";
            }
            else
            {
                var top = stack.Pop();
                if (top.IsArray)
                {
                    path = $"{top.Path}[{top.Next}]";
                    stack.Push((top.Path, true, top.Next + 1));
                }
                else
                {
                    path = top.Path.Length == 0 ? pendingProperty! : $"{top.Path}.{pendingProperty}";
                    stack.Push(top);
                }
            }
            offsets.TryAdd(path, reader.TokenStartIndex);
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                stack.Push((path, false, 0));
            }
            else if (reader.TokenType == JsonTokenType.StartArray)
            {
                stack.Push((path, true, 0));
            }
        }
        return offsets;
    }

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    public static string Quote(string s)
    {
        var sb = new StringBuilder("'");
        foreach (var ch in s)
        {
            sb.Append(char.IsControl(ch) ? $"\\u{(int)ch:x4}" : ch.ToString());
        }
        return sb.Append('\'').ToString();
    }
}
