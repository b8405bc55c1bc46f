using Porter.Server.Limits;
using Xunit;

namespace Porter.Tests.Server.Limits;

public sealed class PerUserCounterTests
{
    [Fact]
    public void Each_user_is_bounded_separately_and_root_not_at_all()
    {
        var counter = new PerUserCounter(() => 2);

        Assert.True(counter.TryEnter(1000));
        Assert.True(counter.TryEnter(1000));
        Assert.False(counter.TryEnter(1000));
        Assert.True(counter.TryEnter(1001));
        for (var i = 0; i < 10; i++)
        {
            Assert.True(counter.TryEnter(0));
        }
        Assert.Equal(2, counter.HeldBy(1000));

        counter.Leave(1000);
        Assert.True(counter.TryEnter(1000));
        counter.Leave(1000);
        counter.Leave(1000);
        counter.Leave(1000); // one too many: harmless
        Assert.Equal(0, counter.HeldBy(1000));
    }

    [Fact]
    public void The_limit_is_read_at_every_check()
    {
        var limit = 1;
        var counter = new PerUserCounter(() => limit);
        Assert.True(counter.TryEnter(7));
        Assert.False(counter.TryEnter(7));
        limit = 3;
        Assert.True(counter.TryEnter(7));
        Assert.Equal(3, counter.Limit);
    }
}
