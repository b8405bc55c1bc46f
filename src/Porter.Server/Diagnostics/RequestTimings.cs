using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Porter.Server.Diagnostics;

/// <summary>
/// Where one call's time goes, phase by phase (caller resolution, namespace verification, locks, each CNI plugin run,
/// record writes and their fsyncs, holds, the answer), logged as one line when the call ends. Enabled by config.json's
/// <c>log.timings</c> or NET_PORTER_TIMINGS=1; off by default, and then every <see cref="Lap"/> is one AsyncLocal read
/// that finds nothing. Phases are laps: each one is the time since the previous lap of the same call, so the laps add
/// up to the call's total (a call's work is sequential, even where it awaits). Phases of the same name add up.
/// </summary>
public sealed class RequestTimings
{
    private static readonly AsyncLocal<RequestTimings?> CurrentCall = new();

    /// <summary>The log category of the timing lines, shown at any log level (they are only written when asked for).</summary>
    public const string LogCategory = "Porter.Server.Timings";

    /// <summary>NET_PORTER_TIMINGS=1 turns timings on whatever the configuration says.</summary>
    public static readonly bool ForcedByEnvironment = Environment.GetEnvironmentVariable("NET_PORTER_TIMINGS") == "1";

    private readonly long _started;
    private readonly List<(string Phase, long Ticks)> _laps = [];
    private long _last;

    private RequestTimings(long started)
    {
        _started = started;
        _last = started;
    }

    /// <summary>
    /// Starts timing the current call (and everything it awaits); returns null, and costs nothing more, when off.
    /// Given when its connection was accepted (the first call on a connection), the time from then until now is
    /// the first phase, "connection": HTTP/2's preface and settings, the request's frames, routing, deserialising.
    /// </summary>
    public static RequestTimings? Begin(bool enabled, long connectionAcceptedAt = 0)
    {
        if (!enabled && !ForcedByEnvironment)
        {
            return null;
        }
        var now = Stopwatch.GetTimestamp();
        var timings = new RequestTimings(connectionAcceptedAt is > 0 and var accepted && accepted <= now ? accepted : now);
        if (timings._started != now)
        {
            timings._laps.Add(("connection", now - timings._started));
            timings._last = now;
        }
        CurrentCall.Value = timings;
        return timings;
    }

    /// <summary>Ends the current phase: the time since the previous lap is booked to <paramref name="phase"/>.</summary>
    public static void Lap(string phase) => CurrentCall.Value?.Add(phase);

    /// <summary>As <see cref="Lap(string)"/>, for a phase name that is only built when timings are on.</summary>
    public static void Lap<T>(Func<T, string> phase, T arg)
    {
        if (CurrentCall.Value is { } timings)
        {
            timings.Add(phase(arg));
        }
    }

    private void Add(string phase)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_laps)
        {
            _laps.Add((phase, now - _last));
            _last = now;
        }
    }

    /// <summary>"total 17.3 ms: caller 0.1, netns 0.4, lock 0.0, …, answer 0.2" (milliseconds; same-named phases summed, in first-seen order).</summary>
    public string Summary()
    {
        var total = Stopwatch.GetElapsedTime(_started).TotalMilliseconds;
        var order = new List<string>();
        var sums = new Dictionary<string, (double Ms, int Count)>(StringComparer.Ordinal);
        lock (_laps)
        {
            foreach (var (phase, ticks) in _laps)
            {
                var ms = ticks * 1000.0 / Stopwatch.Frequency;
                if (sums.TryGetValue(phase, out var sum))
                {
                    sums[phase] = (sum.Ms + ms, sum.Count + 1);
                }
                else
                {
                    order.Add(phase);
                    sums[phase] = (ms, 1);
                }
            }
        }
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"total {total:0.00} ms:");
        var first = true;
        foreach (var phase in order)
        {
            var (ms, count) = sums[phase];
            text.Append(first ? " " : ", ").Append(CultureInfo.InvariantCulture, $"{phase} {ms:0.00}");
            if (count > 1)
            {
                text.Append(CultureInfo.InvariantCulture, $" (x{count})");
            }
            first = false;
        }
        return text.ToString();
    }
}
