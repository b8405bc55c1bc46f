using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Porter.Server.Cni.Types;

/// <summary>
/// A CNI ADD result in the 0.3.0 to 1.1.0 shape (interfaces, ips with interface index, routes, dns).
/// <see cref="Raw"/> is kept verbatim: it is the prevResult of the next plugin and what DEL is given later.
/// </summary>
public sealed record CniResult(
    string CniVersion,
    ImmutableArray<CniInterface> Interfaces,
    ImmutableArray<CniIpConfig> Ips,
    ImmutableArray<CniRoute> Routes,
    CniDns Dns,
    JsonObject Raw)
{
    private static readonly JsonDocumentOptions ResultOptions = new() { AllowDuplicateProperties = false };

    /// <summary>
    /// A plugin's stdout as a JSON object. System.Text.Json's nodes read strings and keys lazily, and throw
    /// InvalidOperationException or ArgumentException for invalid UTF-8 or a duplicate key wherever they are first
    /// touched; both are refused here instead, as FormatException like every other malformed result.
    /// </summary>
    public static JsonObject ReadObject(byte[] output)
    {
        if (!System.Text.Unicode.Utf8.IsValid(output))
        {
            throw new FormatException("the result is not valid UTF-8");
        }
        try
        {
            return JsonNode.Parse(output, documentOptions: ResultOptions) as JsonObject
                ?? throw new FormatException("the result is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new FormatException($"the result is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Reads a result, checking the types of the fields net-porter relies on.</summary>
    public static CniResult Parse(JsonObject raw)
    {
        var interfaces = ImmutableArray.CreateBuilder<CniInterface>();
        foreach (var item in ArrayOf(raw, "interfaces"))
        {
            var o = ObjectOf(item, "interfaces[]");
            interfaces.Add(new CniInterface(
                StringOf(o, "name") ?? throw new FormatException("an interface has no \"name\""),
                StringOf(o, "mac") ?? "",
                StringOf(o, "sandbox") ?? ""));
        }
        var ips = ImmutableArray.CreateBuilder<CniIpConfig>();
        foreach (var item in ArrayOf(raw, "ips"))
        {
            var o = ObjectOf(item, "ips[]");
            int? index = null;
            if (o["interface"] is JsonValue v)
            {
                index = v.TryGetValue<int>(out var i) && i >= 0 ? i : throw new FormatException("ips[].interface is not a non-negative integer");
            }
            ips.Add(new CniIpConfig(
                StringOf(o, "address") ?? throw new FormatException("an ips[] entry has no \"address\""),
                StringOf(o, "gateway"),
                index));
        }
        var routes = ImmutableArray.CreateBuilder<CniRoute>();
        foreach (var item in ArrayOf(raw, "routes"))
        {
            var o = ObjectOf(item, "routes[]");
            routes.Add(new CniRoute(StringOf(o, "dst") ?? throw new FormatException("a route has no \"dst\""), StringOf(o, "gw")));
        }
        var dns = CniDns.Empty;
        if (raw["dns"] is JsonObject d)
        {
            dns = new CniDns(
                [.. ArrayOf(d, "nameservers").Select(n => ScalarString(n, "dns.nameservers[]"))],
                StringOf(d, "domain"),
                [.. ArrayOf(d, "search").Select(n => ScalarString(n, "dns.search[]"))],
                [.. ArrayOf(d, "options").Select(n => ScalarString(n, "dns.options[]"))]);
        }
        return new CniResult(StringOf(raw, "cniVersion") ?? "", interfaces.ToImmutable(), ips.ToImmutable(), routes.ToImmutable(), dns, raw);
    }

    private static IEnumerable<JsonNode?> ArrayOf(JsonObject o, string key) => o[key] switch
    {
        null => [],
        JsonArray a => a,
        _ => throw new FormatException($"\"{key}\" is not an array"),
    };

    private static JsonObject ObjectOf(JsonNode? node, string what) =>
        node as JsonObject ?? throw new FormatException($"{what} is not an object");

    private static string? StringOf(JsonObject o, string key) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new FormatException($"\"{key}\" is not a string"),
    };

    private static string ScalarString(JsonNode? node, string what) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw new FormatException($"{what} is not a string");
}

/// <summary>An interface a plugin created; <see cref="Sandbox"/> is the netns path for container-side ones, "" on the host.</summary>
public sealed record CniInterface(string Name, string Mac, string Sandbox);

/// <summary>An address as CIDR with the host part ("10.1.2.3/24"), and the index of its interface.</summary>
public sealed record CniIpConfig(string Address, string? Gateway, int? Interface);

public sealed record CniRoute(string Dst, string? Gw);

public sealed record CniDns(ImmutableArray<string> Nameservers, string? Domain, ImmutableArray<string> Search, ImmutableArray<string> Options)
{
    public static readonly CniDns Empty = new([], null, [], []);
}
