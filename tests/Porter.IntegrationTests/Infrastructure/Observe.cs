using System.Text.Json.Nodes;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests.Infrastructure;

/// <summary>Reads what the plugin printed and what the kernel shows, failing with everything needed to diagnose.</summary>
public static class Observe
{
    /// <summary>The plugin succeeded and printed one JSON object on stdout.</summary>
    public static JsonObject Success(ShellResult result, PorterServerProcess? server = null)
    {
        Assert.True(result.ExitCode == 0, $"plugin failed: {result}\nserver log:\n{server?.Log}");
        return JsonNode.Parse(result.Stdout) as JsonObject ?? throw new Xunit.Sdk.XunitException($"stdout is not a JSON object: {result.Stdout}");
    }

    /// <summary>The plugin failed the netavark way: non-zero exit and exactly {"error": "..."} on stdout.</summary>
    public static string Error(ShellResult result)
    {
        Assert.True(result.ExitCode != 0, $"plugin should have failed: {result}");
        var json = JsonNode.Parse(result.Stdout) as JsonObject ?? throw new Xunit.Sdk.XunitException($"stdout is not a JSON object: {result.Stdout}");
        Assert.Equal(["error"], json.Select(kv => kv.Key));
        return json["error"]!.GetValue<string>();
    }

    /// <summary>`ip -j addr show dev IF` inside a namespace; null when the interface does not exist.</summary>
    public static JsonObject? Link(RootlessCaller caller, string netns, string ifName)
    {
        var result = caller.InNetns(netns, $"ip -j addr show dev {ifName}");
        if (result.ExitCode != 0)
        {
            Assert.Contains("does not exist", result.Stderr);
            return null;
        }
        return (JsonNode.Parse(result.Stdout) as JsonArray)?.Single() as JsonObject;
    }

    /// <summary>The link's driver ("macvlan", "ipvlan", "veth") from `ip -d`.</summary>
    public static string? LinkKind(RootlessCaller caller, string netns, string ifName)
    {
        var result = caller.InNetns(netns, $"ip -d -j link show dev {ifName}");
        Assert.True(result.ExitCode == 0, result.ToString());
        return (JsonNode.Parse(result.Stdout) as JsonArray)?.Single()?["linkinfo"]?["info_kind"]?.GetValue<string>();
    }

    /// <summary>Every link name in a namespace.</summary>
    public static IReadOnlyList<string> LinkNames(RootlessCaller caller, string netns)
    {
        var result = caller.InNetns(netns, "ip -j link show");
        Assert.True(result.ExitCode == 0, result.ToString());
        return (JsonNode.Parse(result.Stdout) as JsonArray)!.Select(l => l!["ifname"]!.GetValue<string>()).ToList();
    }

    public static IReadOnlyList<string> Ipv4Addresses(JsonObject link) =>
        link["addr_info"]!.AsArray().Where(a => a!["family"]!.GetValue<string>() == "inet")
            .Select(a => $"{a!["local"]!.GetValue<string>()}/{a["prefixlen"]!.GetValue<int>()}").ToList();
}
