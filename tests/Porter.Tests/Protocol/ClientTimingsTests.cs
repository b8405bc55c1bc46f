using Porter.Protocol;
using Xunit;

namespace Porter.Tests.Protocol;

public sealed class ClientTimingsTests
{
    [Fact]
    public void Off_unless_NET_PORTER_TIMINGS_is_1_and_then_one_line_of_laps_since_main()
    {
        ClientTimings.Start();
        ClientTimings.Lap("input");
        ClientTimings.Lap("call");
        var summary = ClientTimings.Summary();

        if (Environment.GetEnvironmentVariable("NET_PORTER_TIMINGS") == "1")
        {
            Assert.NotNull(summary);
            Assert.Matches(@"^net-porter: timings: input \d+\.\d\d, call \d+\.\d\d \(main \d+\.\d\d ms\)$", summary);
        }
        else
        {
            Assert.False(ClientTimings.Enabled);
            Assert.Null(summary);
        }
    }
}
