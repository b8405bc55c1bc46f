using System.Collections.Concurrent;
using System.Globalization;

namespace Porter.Server.Attachments;

/// <summary>
/// What the server last saw of each DHCP lease, for status. The CNI dhcp daemon renews leases by itself and tells
/// nobody, so this knows only the moments the server was involved: the first acquisition at setup and every
/// acquisition again after the daemon (re)started. It lives in memory: after a server restart a lease is "unknown"
/// until the daemon acquires it again.
/// </summary>
public sealed class LeaseStates
{
    private readonly ConcurrentDictionary<string, string> _states = new(StringComparer.Ordinal);

    public void Acquired(string record, string addresses, bool again) =>
        _states[record] = $"{(again ? "acquired again" : "acquired")} {Now()}{(addresses.Length > 0 ? $" ({addresses})" : "")}";

    public void Failed(string record, string problem) => _states[record] = $"acquiring again failed {Now()}: {problem}";

    public void Forget(string record) => _states.TryRemove(record, out _);

    public string Describe(string record) =>
        _states.TryGetValue(record, out var state) ? state : "unknown (not acquired since the server started)";

    private static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
