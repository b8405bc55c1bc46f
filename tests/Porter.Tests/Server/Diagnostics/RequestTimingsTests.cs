using Porter.Server.Diagnostics;
using Xunit;

namespace Porter.Tests.Server.Diagnostics;

public sealed class RequestTimingsTests
{
    [Fact]
    public async Task Off_it_begins_nothing_and_laps_cost_nothing()
    {
        await Task.Run(() =>
        {
            if (RequestTimings.ForcedByEnvironment)
            {
                // NET_PORTER_TIMINGS=1 in the test's environment turns them on whatever the configuration says.
                Assert.NotNull(RequestTimings.Begin(enabled: false));
                return;
            }
            Assert.Null(RequestTimings.Begin(enabled: false));
            RequestTimings.Lap("nothing");
            RequestTimings.Lap(static _ => throw new InvalidOperationException("built although timings are off"), 0);
        });
    }

    [Fact]
    public async Task Laps_of_one_call_are_summed_by_phase_in_first_seen_order_across_awaits()
    {
        var summary = await Task.Run(async () =>
        {
            var timings = RequestTimings.Begin(enabled: true)!;
            RequestTimings.Lap("caller");
            await Task.Delay(20);
            RequestTimings.Lap("record fsync");
            await Task.Yield();
            RequestTimings.Lap(static t => $"{t} ADD", "macvlan");
            RequestTimings.Lap("record fsync");
            return timings.Summary();
        });

        Assert.Matches(@"^total \d+\.\d\d ms: caller \d+\.\d\d, record fsync (\d+)\.\d\d \(x2\), macvlan ADD \d+\.\d\d$", summary);
        var fsync = double.Parse(System.Text.RegularExpressions.Regex.Match(summary, @"record fsync (\d+\.\d\d)").Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(fsync >= 15, summary);
    }

    [Fact]
    public async Task Calls_are_timed_apart()
    {
        var (first, second) = await Task.Run(async () =>
        {
            var a = Task.Run(() =>
            {
                var t = RequestTimings.Begin(enabled: true)!;
                RequestTimings.Lap("a");
                return t.Summary();
            });
            var b = Task.Run(() =>
            {
                var t = RequestTimings.Begin(enabled: true)!;
                RequestTimings.Lap("b");
                return t.Summary();
            });
            return (await a, await b);
        });

        Assert.Contains(": a ", first, StringComparison.Ordinal);
        Assert.DoesNotContain(" b ", first, StringComparison.Ordinal);
        Assert.Contains(": b ", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_time_since_the_connection_was_accepted_is_the_first_phase()
    {
        var summary = await Task.Run(async () =>
        {
            var accepted = System.Diagnostics.Stopwatch.GetTimestamp();
            await Task.Delay(20);
            var timings = RequestTimings.Begin(enabled: true, connectionAcceptedAt: accepted)!;
            RequestTimings.Lap("caller");
            return timings.Summary();
        });

        var match = System.Text.RegularExpressions.Regex.Match(summary, @"^total (\d+\.\d\d) ms: connection (\d+\.\d\d), caller \d+\.\d\d$");
        Assert.True(match.Success, summary);
        Assert.True(double.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) >= 15, summary);
    }
}
