using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

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

    private JsonSource(string file, byte[] bytes, JsonDocument document, Dictionary<string, long> offsets, int[] lineStarts)
    {
        File = file;
        Bytes = bytes;
        Document = document;
        _offsets = offsets;
        _lineStarts = lineStarts;
    }

    public string File { get; }
    public byte[] Bytes { get; }
    public JsonDocument Document { get; }
    public ConfigNode Root => new(Document.RootElement, "", this);

    /// <summary>Parses the bytes, reporting syntax errors with line, column and what the parser expected.</summary>
    public static JsonSource Parse(string file, byte[] bytes)
    {
        var lineStarts = LineStarts(bytes);
        // System.Text.Json checks UTF-8 only when a string is read, and then throws InvalidOperationException.
        if (InvalidUtf8At(bytes) is { } bad)
        {
            var (line, column) = LineAndColumn(lineStarts, bad);
            throw new ConfigException(file, line, column, null, $"invalid UTF-8 (byte 0x{bytes[bad]:x2}): the file must be UTF-8 text");
        }
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
        try
        {
            return new JsonSource(file, bytes, document, IndexOffsets(file, bytes, lineStarts), lineStarts);
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    public (int Line, int Column)? PositionOf(string path)
    {
        if (!_offsets.TryGetValue(path, out var offset))
        {
            return null;
        }
        return LineAndColumn(_lineStarts, (int)offset);
    }

    private static (int Line, int Column) LineAndColumn(int[] lineStarts, int offset)
    {
        var index = Array.BinarySearch(lineStarts, offset);
        if (index < 0)
        {
            index = ~index - 1;
        }
        return (index + 1, offset - lineStarts[index] + 1);
    }

    /// <summary>The offset of the first byte that is not part of valid UTF-8, or null.</summary>
    private static int? InvalidUtf8At(byte[] bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return null;
        }
        var rest = bytes.AsSpan();
        while (!rest.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf8(rest, out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return bytes.Length - rest.Length;
            }
            rest = rest[consumed..];
        }
        return null;
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

    /// <summary>
    /// Walks the tokens once and records the byte offset of every value under its path. Refuses a key that appears
    /// twice in one object: which of the two counts would be a guess (System.Text.Json takes the last, and the JSON
    /// objects built from it throw).
    /// </summary>
    private static Dictionary<string, long> IndexOffsets(string file, byte[] bytes, int[] lineStarts)
    {
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 32 });
        // Each open container: its path, whether it is an array, the next element index, and an object's keys so far.
        var stack = new Stack<(string Path, bool IsArray, int Next, Dictionary<string, long>? Keys)>();
        string? pendingProperty = null;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                pendingProperty = reader.GetString()!;
                var (parent, _, _, keys) = stack.Peek();
                if (!keys!.TryAdd(pendingProperty, reader.TokenStartIndex))
                {
                    var (line, column) = LineAndColumn(lineStarts, (int)reader.TokenStartIndex);
                    var first = LineAndColumn(lineStarts, (int)keys[pendingProperty]);
                    throw new ConfigException(file, line, column, parent.Length == 0 ? null : parent,
                        $"duplicate key {Quote(pendingProperty)} (first at line {first.Line}, column {first.Column})");
                }
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
                    stack.Push(top with { Next = top.Next + 1 });
                }
                else
                {
                    path = ChildPath(top.Path, pendingProperty!);
                    stack.Push(top);
                }
            }
            offsets.TryAdd(path, reader.TokenStartIndex);
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                stack.Push((path, false, 0, new Dictionary<string, long>(StringComparer.Ordinal)));
            }
            else if (reader.TokenType == JsonTokenType.StartArray)
            {
                stack.Push((path, true, 0, null));
            }
        }
        return offsets;
    }

    /// <summary>
    /// A mutable copy of an object read from this kind of file. The raw text keeps the comments the file may hold,
    /// so it is parsed again with the same options; the copy (and what is written from it) holds none.
    /// </summary>
    public static JsonObject CopyObject(JsonElement element) =>
        JsonNode.Parse(element.GetRawText(), documentOptions: DocumentOptions)!.AsObject();

    /// <summary>
    /// The path of an object's member: "a.b", or a['x.y'] for a key that holds a dot, a bracket, a quote or a control
    /// character, so that {"a.b": 1} and {"a": {"b": 2}} never share a path (and an error its position).
    /// </summary>
    public static string ChildPath(string parent, string key)
    {
        if (key.Length > 0 && !key.Any(c => c is '.' or '[' or ']' or '\'' or '"' || char.IsControl(c)))
        {
            return parent.Length == 0 ? key : $"{parent}.{key}";
        }
        return $"{parent}[{Quote(key.Replace("'", "\\'", StringComparison.Ordinal))}]";
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
