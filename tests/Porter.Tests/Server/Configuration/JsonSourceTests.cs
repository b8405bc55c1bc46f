using System.Text;
using Porter.Server.Configuration;
using Porter.Server.Json;
using Xunit;

namespace Porter.Tests.Server.Configuration;

public sealed class JsonSourceTests
{
    [Fact]
    public void PositionOf_locates_every_value_by_its_path()
    {
        var json = "{\n  \"a\": {\n    \"b\": [10, {\"c\": true}]\n  }\n}";
        using var source = JsonSource.Parse("f.json", Encoding.UTF8.GetBytes(json));

        Assert.Equal((1, 1), source.PositionOf(""));
        Assert.Equal((2, 8), source.PositionOf("a"));
        Assert.Equal((3, 10), source.PositionOf("a.b"));
        Assert.Equal((3, 11), source.PositionOf("a.b[0]"));
        Assert.Equal((3, 15), source.PositionOf("a.b[1]"));
        Assert.Equal((3, 21), source.PositionOf("a.b[1].c"));
        Assert.Null(source.PositionOf("a.x"));
    }

    [Fact]
    public void A_key_with_a_dot_has_a_path_of_its_own()
    {
        var json = "{\"a.b\": 1,\n \"a\": {\"b\": 2, \"c\": {\"x'y\": 3}}}";
        using var source = JsonSource.Parse("f.json", Encoding.UTF8.GetBytes(json));

        Assert.Equal((1, 9), source.PositionOf("['a.b']"));
        Assert.Equal((2, 13), source.PositionOf("a.b"));
        Assert.Equal((2, 29), source.PositionOf("a.c['x\\'y']"));
        var node = new ConfigNode(source.Document.RootElement, "", source);
        Assert.Equal("['a.b']", node.Get("a.b")!.Value.Path);
        Assert.Equal("a.c['x\\'y']", node.Get("a")!.Value.Get("c")!.Value.Get("x'y")!.Value.Path);
    }

    [Fact]
    public void Error_carries_the_position_of_the_path()
    {
        using var source = JsonSource.Parse("/x/f.json", Encoding.UTF8.GetBytes("{\"k\": 1}"));

        var e = source.Error("k", "bad");
        Assert.Equal("/x/f.json:1:7: k: bad", e.Message);

        var root = source.Error("", "empty");
        Assert.Equal("/x/f.json:1:1: empty", root.Message);
        Assert.Null(root.JsonPath);
    }

    [Fact]
    public void ConfigException_omits_what_is_unknown()
    {
        Assert.Equal("/f: oops", new ConfigException("/f", null, null, null, "oops").Message);
        Assert.Equal("/f:3: p: oops", new ConfigException("/f", 3, null, "p", "oops").Message);
        Assert.Equal("/f:3:4: oops", new ConfigException("/f", 3, 4, "", "oops").Message);
    }

    [Fact]
    public void Quote_escapes_control_characters()
    {
        Assert.Equal("'a\\u000ab\\u0000'", JsonSource.Quote("a\nb\0"));
        Assert.Equal("'ü'", JsonSource.Quote("ü"));
    }

    [Fact]
    public void Nesting_deeper_than_32_is_refused()
    {
        var deep = new string('[', 40) + new string(']', 40);
        var e = Assert.Throws<ConfigException>(() => JsonSource.Parse("f", Encoding.UTF8.GetBytes(deep)));
        Assert.Equal(1, e.Line);
        Assert.StartsWith("invalid JSON: ", e.Problem, StringComparison.Ordinal);
    }
}
