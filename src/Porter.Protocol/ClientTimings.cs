using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Porter.Protocol;

/// <summary>
/// The plugin's side of a call, phase by phase, for the bench's breakdown: with NET_PORTER_TIMINGS=1 in its
/// environment the plugin writes one line to stderr when it is done, "net-porter: timings: input 1.08, client 0.74,
/// http pipeline 2.29, connect 0.23, call 1.06, output 0.12 (main 5.58 ms)": milliseconds since the previous phase, starting when Main
/// began (the runtime's start-up before Main and its exit after are the rest of the process's wall time). Off, every
/// lap is one read of a static field.
/// </summary>
public static class ClientTimings
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("NET_PORTER_TIMINGS") == "1";

    private static readonly List<(string Phase, long Ticks)> Laps = [];
    private static long _started;
    private static long _last;

    /// <summary>Main began.</summary>
    public static void Start()
    {
        if (Enabled)
        {
            _started = _last = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>The current phase ended.</summary>
    public static void Lap(string phase)
    {
        if (!Enabled)
        {
            return;
        }
        var now = Stopwatch.GetTimestamp();
        lock (Laps)
        {
            Laps.Add((phase, now - _last));
            _last = now;
        }
    }

    /// <summary>The line to write, or null when timings are off.</summary>
    public static string? Summary()
    {
        if (!Enabled)
        {
            return null;
        }
        var text = new StringBuilder("net-porter: timings:");
        lock (Laps)
        {
            for (var i = 0; i < Laps.Count; i++)
            {
                text.Append(i == 0 ? " " : ", ").Append(CultureInfo.InvariantCulture, $"{Laps[i].Phase} {Laps[i].Ticks * 1000.0 / Stopwatch.Frequency:0.00}");
            }
        }
        return text.Append(CultureInfo.InvariantCulture, $" (main {Stopwatch.GetElapsedTime(_started).TotalMilliseconds:0.00} ms)").ToString();
    }
}
