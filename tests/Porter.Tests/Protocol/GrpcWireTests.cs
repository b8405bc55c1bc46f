using Porter.Protocol.Grpc;
using Xunit;

namespace Porter.Tests.Protocol;

public sealed class GrpcWireTests
{
    [Theory]
    [InlineData("resource 'lan' not found", "resource 'lan' not found")]
    [InlineData("100%", "100%25")]
    [InlineData("ü", "%C3%BC")]
    [InlineData("\U0001F600", "%F0%9F%98%80")]
    [InlineData("line1\nline2", "line1%0Aline2")]
    [InlineData("tab\there", "tab%09here")]
    [InlineData("del\u007f", "del%7F")]
    [InlineData("", "")]
    public void PercentEncode_escapes_percent_and_every_byte_outside_printable_ascii(string message, string encoded)
    {
        Assert.Equal(encoded, GrpcWire.PercentEncode(message));
    }

    [Theory]
    [InlineData("plain ascii: ~!@#$^&*()_+{}|:\"<>?")]
    [InlineData("50% done, 100%% sure, %41")]
    [InlineData("grüße, naïve café")]
    [InlineData("smile \U0001F600 and 中文")]
    [InlineData("first\nsecond\r\nthird")]
    public void PercentDecode_reverses_PercentEncode(string message)
    {
        Assert.Equal(message, GrpcWire.PercentDecode(GrpcWire.PercentEncode(message)));
    }

    [Theory]
    [InlineData("%41%42", "AB")]
    [InlineData("%c3%bc", "ü")]
    [InlineData("no escapes", "no escapes")]
    public void PercentDecode_decodes_escapes_of_either_case(string value, string decoded)
    {
        Assert.Equal(decoded, GrpcWire.PercentDecode(value));
    }

    [Theory]
    [InlineData("50%")]
    [InlineData("%")]
    [InlineData("%4")]
    [InlineData("%zz and more")]
    [InlineData("%G1")]
    [InlineData("ends with %A")]
    public void PercentDecode_keeps_malformed_escapes_as_they_are(string value)
    {
        Assert.Equal(value, GrpcWire.PercentDecode(value));
    }

    [Theory]
    [InlineData("% 1")]
    [InlineData("%1 x")]
    public void PercentDecode_keeps_escapes_with_whitespace_as_they_are(string value)
    {
        Assert.Equal(value, GrpcWire.PercentDecode(value));
    }

    [Theory]
    [InlineData(0L, "0n")]
    [InlineData(1L, "100n")]
    [InlineData(999_999L, "99999900n")]
    [InlineData(1_000_000L, "100000u")]                         // 100 ms
    [InlineData(300_000_000L, "30000000u")]                     // 30 s
    [InlineData(6_000_000_000L, "600000m")]                     // 10 min
    [InlineData(1_728_000_000_000L, "172800S")]                 // 2 days: 9 digits in ms, so seconds
    [InlineData(2_592_000_000_000_000L, "4320000M")]            // 3000 days
    public void FormatTimeout_uses_the_finest_unit_that_fits_in_eight_digits(long ticks, string expected)
    {
        Assert.Equal(expected, GrpcWire.FormatTimeout(TimeSpan.FromTicks(ticks)));
    }

    [Fact]
    public void FormatTimeout_caps_huge_and_clamps_negative_values()
    {
        Assert.Equal("99999999H", GrpcWire.FormatTimeout(TimeSpan.MaxValue));
        Assert.Equal("0n", GrpcWire.FormatTimeout(TimeSpan.FromSeconds(-5)));
    }

    public static readonly TheoryData<long, long> RoundTripCases = new()
    {
        // ticks, unit in ticks that the formatted value may have lost
        { 1, 1 },
        { 123, 1 },
        { 999_999, 1 },
        { 1_000_000, 10 },
        { 123_456_789, 10 },
        { 999_999_999, 10 },
        { 1_000_000_000, TimeSpan.TicksPerMillisecond },
        { 98_765_432_109, TimeSpan.TicksPerMillisecond },
        { 10_000_000_000_000, TimeSpan.TicksPerSecond },
        { 1_234_567_890_123_456, TimeSpan.TicksPerMinute },
    };

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void FormatTimeout_round_trips_within_the_unit_and_never_lengthens_the_deadline(long ticks, long unit)
    {
        var timeout = TimeSpan.FromTicks(ticks);
        var formatted = GrpcWire.FormatTimeout(timeout);

        Assert.InRange(formatted.Length - 1, 1, 8);
        Assert.True(GrpcWire.TryParseTimeout(formatted, out var parsed), formatted);
        Assert.True(parsed <= timeout, $"{formatted} -> {parsed} is longer than {timeout}");
        Assert.True(timeout - parsed < TimeSpan.FromTicks(unit), $"{formatted} -> {parsed} lost more than {unit} ticks of {timeout}");
    }

    [Theory]
    [InlineData("5H", 5 * TimeSpan.TicksPerHour)]
    [InlineData("2M", 2 * TimeSpan.TicksPerMinute)]
    [InlineData("30S", 30 * TimeSpan.TicksPerSecond)]
    [InlineData("100m", 100 * TimeSpan.TicksPerMillisecond)]
    [InlineData("250u", 2_500L)]
    [InlineData("1000n", 10L)]
    [InlineData("99999999S", 99_999_999 * TimeSpan.TicksPerSecond)]
    [InlineData("0S", 0L)]
    public void TryParseTimeout_reads_every_unit(string value, long ticks)
    {
        Assert.True(GrpcWire.TryParseTimeout(value, out var timeout));
        Assert.Equal(TimeSpan.FromTicks(ticks), timeout);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("S")]
    [InlineData("123456789S")]   // nine digits
    [InlineData("5s")]
    [InlineData("5X")]
    [InlineData("-5S")]
    [InlineData("+5S")]
    [InlineData("1.5S")]
    [InlineData(" 5S")]
    [InlineData("5 S")]
    [InlineData("٣S")]           // a non-ASCII digit
    public void TryParseTimeout_refuses_what_is_not_a_timeout(string? value)
    {
        Assert.False(GrpcWire.TryParseTimeout(value, out var timeout));
        Assert.Equal(TimeSpan.Zero, timeout);
    }

    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("application/grpc;charset=utf-8", true)]
    [InlineData("Application/GRPC", true)]
    [InlineData("application/grpc-web", false)]
    [InlineData("application/grpcx", false)]
    [InlineData("application/json", false)]
    [InlineData("application/grp", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsGrpcContentType_accepts_the_type_and_its_variants_only(string? contentType, bool expected)
    {
        Assert.Equal(expected, GrpcWire.IsGrpcContentType(contentType));
    }

    [Theory]
    [InlineData(400, StatusCode.Internal)]
    [InlineData(401, StatusCode.Unauthenticated)]
    [InlineData(403, StatusCode.PermissionDenied)]
    [InlineData(404, StatusCode.Unimplemented)]
    [InlineData(429, StatusCode.Unavailable)]
    [InlineData(502, StatusCode.Unavailable)]
    [InlineData(503, StatusCode.Unavailable)]
    [InlineData(504, StatusCode.Unavailable)]
    [InlineData(500, StatusCode.Unknown)]
    [InlineData(200, StatusCode.Unknown)]
    [InlineData(418, StatusCode.Unknown)]
    public void StatusFromHttp_follows_the_grpc_mapping(int http, StatusCode expected)
    {
        Assert.Equal(expected, GrpcWire.StatusFromHttp(http));
    }
}
