using Porter.Server.Hosting;
using Xunit;

namespace Porter.Tests.Server.Hosting;

public sealed class PassedFdsTests
{
    [Fact]
    public void Nothing_is_passed_without_LISTEN_FDS()
    {
        Assert.Empty(PassedFds.Parse(null, null, null, 42));
        Assert.Empty(PassedFds.Parse("42", "", "main", 42));
    }

    [Fact]
    public void Descriptors_count_from_3_and_take_their_names_in_order()
    {
        Assert.Equal(
            [new PassedFd(3, "main"), new PassedFd(4, "hold-net-1000-abc-eth0"), new PassedFd(5, "hold-x")],
            PassedFds.Parse("42", "3", "main:hold-net-1000-abc-eth0:hold-x", 42));
    }

    [Fact]
    public void Unnamed_descriptors_are_called_unknown_as_sd_listen_fds_with_names_does()
    {
        Assert.Equal([new PassedFd(3, "unknown"), new PassedFd(4, "unknown")], PassedFds.Parse("42", "2", null, 42));
        Assert.Equal([new PassedFd(3, "main"), new PassedFd(4, "unknown")], PassedFds.Parse("42", "2", "main:", 42));
    }

    [Fact]
    public void Descriptors_meant_for_another_process_are_refused()
    {
        var e = Assert.Throws<StartupException>(() => PassedFds.Parse("1", "1", "main", 42));
        Assert.Equal("LISTEN_FDS is set, but LISTEN_PID (1) is not this process (42); refusing to guess which socket to use", e.Message);
        e = Assert.Throws<StartupException>(() => PassedFds.Parse(null, "1", null, 42));
        Assert.Equal("LISTEN_FDS is set, but LISTEN_PID (unset) is not this process (42); refusing to guess which socket to use", e.Message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("two")]
    [InlineData("99999999")]
    public void A_count_that_is_not_a_positive_number_is_refused(string count)
    {
        var e = Assert.Throws<StartupException>(() => PassedFds.Parse("42", count, null, 42));
        Assert.Equal($"LISTEN_FDS={count} is not a positive number", e.Message);
    }

    [Fact]
    public void Names_that_do_not_match_the_count_are_refused()
    {
        var e = Assert.Throws<StartupException>(() => PassedFds.Parse("42", "2", "main", 42));
        Assert.Equal("LISTEN_FDNAMES names 1 descriptors, but LISTEN_FDS=2; refusing to guess which is which", e.Message);
    }
}
