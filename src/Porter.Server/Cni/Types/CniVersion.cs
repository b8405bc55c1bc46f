using System.Globalization;

namespace Porter.Server.Cni.Types;

/// <summary>A CNI spec version ("1.0.0"). Plugins compare these as exact strings; we compare them as numbers.</summary>
public readonly record struct CniVersion(int Major, int Minor, int Patch) : IComparable<CniVersion>
{
    /// <summary>The oldest version whose results carry interfaces and ips[].interface, which StatusBlock needs.</summary>
    public static readonly CniVersion MinimumSupported = new(0, 3, 0);

    /// <summary>The newest spec the runtime implements.</summary>
    public static readonly CniVersion MaximumSupported = new(1, 1, 0);

    public static bool TryParse(string? text, out CniVersion version)
    {
        version = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }
        var parts = text.Split('.');
        if (parts.Length != 3)
        {
            return false;
        }
        var numbers = new int[3];
        for (var i = 0; i < 3; i++)
        {
            if (parts[i].Length is 0 or > 4 || !int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
            {
                return false;
            }
        }
        version = new CniVersion(numbers[0], numbers[1], numbers[2]);
        return true;
    }

    public int CompareTo(CniVersion other) =>
        Major != other.Major ? Major.CompareTo(other.Major)
        : Minor != other.Minor ? Minor.CompareTo(other.Minor)
        : Patch.CompareTo(other.Patch);

    public static bool operator <(CniVersion a, CniVersion b) => a.CompareTo(b) < 0;
    public static bool operator >(CniVersion a, CniVersion b) => a.CompareTo(b) > 0;
    public static bool operator <=(CniVersion a, CniVersion b) => a.CompareTo(b) <= 0;
    public static bool operator >=(CniVersion a, CniVersion b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"{Major}.{Minor}.{Patch}";
}
