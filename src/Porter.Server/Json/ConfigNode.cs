using System.Globalization;
using System.Text.Json;

namespace Porter.Server.Json;

/// <summary>A value inside a <see cref="JsonSource"/> with its path, and typed reads that fail with a located error.</summary>
public readonly record struct ConfigNode(JsonElement Element, string Path, JsonSource Source)
{
    public ConfigException Error(string problem) => Source.Error(Path, problem);

    public JsonValueKind Kind => Element.ValueKind;

    /// <summary>The named member, or null when it is absent or JSON null.</summary>
    public ConfigNode? Get(string key)
    {
        RequireKind(JsonValueKind.Object);
        if (!Element.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return new ConfigNode(value, JsonSource.ChildPath(Path, key), Source);
    }

    /// <summary>Refuses members nobody reads: a misspelt key in a security configuration must not pass silently.</summary>
    public void OnlyKeys(params string[] known)
    {
        RequireKind(JsonValueKind.Object);
        foreach (var property in Element.EnumerateObject())
        {
            if (Array.IndexOf(known, property.Name) >= 0)
            {
                continue;
            }
            var child = JsonSource.ChildPath(Path, property.Name);
            // A suggestion only for names of a plausible length: the distance costs the product of both lengths.
            var suggestion = property.Name.Length <= 64 ? known.MinBy(k => Distance(k, property.Name)) : null;
            var hint = suggestion is not null && Distance(suggestion, property.Name) <= 2 ? $"; did you mean '{suggestion}'?" : "";
            throw Source.Error(child, $"unknown key '{property.Name}' (known keys: {string.Join(", ", known)}){hint}");
        }
    }

    public string AsString()
    {
        RequireKind(JsonValueKind.String);
        return Element.GetString()!;
    }

    public bool AsBool()
    {
        if (Element.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            throw Error($"expected true or false, found {JsonSource.Describe(Element.ValueKind)}");
        }
        return Element.GetBoolean();
    }

    public int AsInt(int min, int max)
    {
        RequireKind(JsonValueKind.Number);
        if (!Element.TryGetInt32(out var value) || value < min || value > max)
        {
            throw Error($"expected a whole number from {min} to {max}, found {Element.GetRawText()}");
        }
        return value;
    }

    public IEnumerable<ConfigNode> Items()
    {
        RequireKind(JsonValueKind.Array);
        var path = Path;
        var source = Source;
        return Element.EnumerateArray().Select((item, i) => new ConfigNode(item, $"{path}[{i}]", source));
    }

    public string? OptionalString(string key) => Get(key)?.AsString();

    public bool? OptionalBool(string key) => Get(key)?.AsBool();

    public void RequireKind(JsonValueKind kind)
    {
        if (Element.ValueKind != kind)
        {
            throw Error($"expected {JsonSource.Describe(kind)}, found {JsonSource.Describe(Element.ValueKind)}");
        }
    }

    /// <summary>Parses an octal file mode written as a string ("0660") so that JSON's decimal numbers cannot mislead.</summary>
    public int AsFileMode()
    {
        var text = AsString();
        if (text.Length is < 3 or > 4 || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _) ||
            text.Any(c => c > '7'))
        {
            throw Error($"expected an octal mode such as \"0660\", found {JsonSource.Quote(text)}");
        }
        return Convert.ToInt32(text, 8);
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
            }
        }
        return d[a.Length, b.Length];
    }
}
