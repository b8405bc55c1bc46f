using System.Globalization;
using System.Text;

namespace Porter.Protocol.Grpc;

/// <summary>Names and encodings of the gRPC-over-HTTP/2 wire protocol that both sides share.</summary>
public static class GrpcWire
{
    public const string ContentType = "application/grpc";
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";
    public const string TimeoutHeader = "grpc-timeout";
    public const string EncodingHeader = "grpc-encoding";

    /// <summary>gRPC's default receive limit; requests and replies here are far smaller.</summary>
    public const int DefaultMaxMessageSize = 4 * 1024 * 1024;

    /// <summary>True for "application/grpc" and its "+proto" and ";parameter" variants.</summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null || !contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        if (contentType.Length == ContentType.Length)
        {
            return true;
        }
        var next = contentType[ContentType.Length];
        return next == '+' || next == ';';
    }

    /// <summary>grpc-message is percent-encoded UTF-8: every byte outside printable ASCII, and '%', becomes %XX.</summary>
    public static string PercentEncode(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var sb = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b >= 0x20 && b <= 0x7E && b != (byte)'%')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }

    /// <summary>Decodes grpc-message; malformed escapes are kept as they are, as the spec asks of receivers.</summary>
    public static string PercentDecode(string value)
    {
        if (!value.Contains('%'))
        {
            return value;
        }
        var bytes = new List<byte>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '%' && i + 2 < value.Length &&
                byte.TryParse(value.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                // Non-ASCII cannot appear in a valid header; keep it rather than lose it.
                bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Formats a grpc-timeout value: at most 8 digits and the finest unit that fits.</summary>
    public static string FormatTimeout(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero)
        {
            timeout = TimeSpan.Zero;
        }
        var ticks = timeout.Ticks; // 100 ns
        const long max = 99_999_999;
        // Rounding down to a coarser unit only ever shortens the deadline, never extends it.
        if (ticks <= max / 100)
        {
            return (ticks * 100).ToString(CultureInfo.InvariantCulture) + "n";
        }
        var micro = ticks / 10;
        if (micro <= max)
        {
            return micro.ToString(CultureInfo.InvariantCulture) + "u";
        }
        var milli = ticks / TimeSpan.TicksPerMillisecond;
        if (milli <= max)
        {
            return milli.ToString(CultureInfo.InvariantCulture) + "m";
        }
        var seconds = ticks / TimeSpan.TicksPerSecond;
        if (seconds <= max)
        {
            return seconds.ToString(CultureInfo.InvariantCulture) + "S";
        }
        var minutes = ticks / TimeSpan.TicksPerMinute;
        if (minutes <= max)
        {
            return minutes.ToString(CultureInfo.InvariantCulture) + "M";
        }
        return Math.Min(ticks / TimeSpan.TicksPerHour, max).ToString(CultureInfo.InvariantCulture) + "H";
    }

    /// <summary>Parses a grpc-timeout value ("100m", "5S", ...); false when it is not one.</summary>
    public static bool TryParseTimeout(string? value, out TimeSpan timeout)
    {
        timeout = default;
        if (string.IsNullOrEmpty(value) || value.Length < 2 || value.Length > 9)
        {
            return false;
        }
        var digits = value.AsSpan(0, value.Length - 1);
        foreach (var d in digits)
        {
            if (d < '0' || d > '9')
            {
                return false;
            }
        }
        var amount = long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        switch (value[^1])
        {
            case 'H': timeout = TimeSpan.FromHours(amount); return true;
            case 'M': timeout = TimeSpan.FromMinutes(amount); return true;
            case 'S': timeout = TimeSpan.FromSeconds(amount); return true;
            case 'm': timeout = TimeSpan.FromMilliseconds(amount); return true;
            case 'u': timeout = TimeSpan.FromTicks(amount * 10); return true;
            case 'n': timeout = TimeSpan.FromTicks(amount / 100); return true;
            default: return false;
        }
    }

    /// <summary>The gRPC status a client must assume for a non-200 HTTP answer (gRPC's http-grpc-status-mapping).</summary>
    public static StatusCode StatusFromHttp(int httpStatus) => httpStatus switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };
}
