using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Porter.Plugin.Netns;

/// <summary>What /run/netns/NAME is to net-porter.</summary>
public enum Ownership
{
    /// <summary>Made by this `up`.</summary>
    Made,
    /// <summary>Made by an earlier `up` (which crashed, or ran before): used again.</summary>
    Reused,
    /// <summary>Made by someone else; the netns file allowed adopting it.</summary>
    Adopted,
}

/// <summary>
/// Named network namespaces the way iproute2 keeps them (/run/netns/NAME, a bind mount of the namespace, in a
/// /run/netns that is a shared mount point so the mount reaches every mount namespace), so `ip netns exec` and
/// systemd's NetworkNamespacePath= find them. net-porter remembers which ones it made by a marker,
/// /run/net-porter/netns/NAME, holding the namespace's inode: a namespace of that name and inode is its own, any other
/// is foreign. /run is a tmpfs, so markers go with the namespaces at reboot.
/// </summary>
public static class NamedNetns
{
    public const string RunDirectory = "/run/netns";
    public const string StateDirectory = "/run/net-porter/netns";
    public const int MaxNameLength = 64;

    public static string PathOf(string name) => Path.Combine(RunDirectory, name);

    /// <summary>A name is a file name in /run/netns (and a systemd instance name): letters, digits, '_', '.', '-'.</summary>
    public static void Validate(string name)
    {
        if (name.Length == 0 || name.Length > MaxNameLength)
        {
            throw new PluginException($"netns name '{name}' must be 1 to {MaxNameLength} characters long");
        }
        if (!char.IsAsciiLetterOrDigit(name[0]) || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')))
        {
            throw new PluginException($"netns name '{name}' may only contain letters, digits, '_', '.' and '-', starting with a letter or digit");
        }
    }

    public static void RequireRoot(string verb)
    {
        if (Libc.GetEuid() != 0)
        {
            throw new PluginException($"net-porter netns {verb} must run as root: it makes and removes namespaces under {RunDirectory}");
        }
    }

    /// <summary>Serialises `up` and `down` of one name; different names proceed in parallel.</summary>
    public static FileLock LockName(string name)
    {
        Directory.CreateDirectory(StateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return FileLock.Acquire(Path.Combine(StateDirectory, $"{name}.lock"));
    }

    /// <summary>
    /// Whether /run/netns/NAME exists, and the inode of the namespace mounted there (null when it is no namespace):
    /// from this mount namespace's mountinfo, the last nsfs mount at that point (the one a path lookup finds).
    /// </summary>
    public static (bool Exists, ulong? Inode) Inspect(string name)
    {
        var path = PathOf(name);
        var exists = File.Exists(path) || Directory.Exists(path);
        ulong? inode = null;
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var separator = line.IndexOf(" - ", StringComparison.Ordinal);
            if (separator < 0)
            {
                continue;
            }
            var fields = line[..separator].Split(' ');
            var root = fields.Length > 4 ? fields[3] : "";
            if (fields.Length > 4 && fields[4] == path)
            {
                inode = line.AsSpan(separator + 3).StartsWith("nsfs ", StringComparison.Ordinal) && root.StartsWith("net:[", StringComparison.Ordinal) &&
                    ulong.TryParse(root.AsSpan(5, root.Length - 6), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                        ? value
                        : null;
            }
        }
        return (exists, inode);
    }

    /// <summary>
    /// Makes /run/netns/NAME with iproute2 itself (`ip netns add`), so the layout is exactly iproute2's, with no
    /// namespace switching inside this multi-threaded process, and then brings its loopback up (as systemd's
    /// PrivateNetwork= does; `ip netns add` leaves it down). iproute2 races with itself when two `ip netns add` make
    /// /run/netns a mount point at once, so every net-porter creation takes one lock for that step.
    /// </summary>
    public static ulong Create(string name)
    {
        using (FileLock.Acquire(Path.Combine(StateDirectory, ".create.lock")))
        {
            IpRoute.Run("netns", "add", name);
        }
        IpRoute.Run("-n", name, "link", "set", "lo", "up");
        return Inspect(name).Inode ?? throw new PluginException($"ip netns add {name} succeeded, but {PathOf(name)} is no network namespace");
    }

    /// <summary>`ip netns del`: unmounts and removes /run/netns/NAME (processes still in it keep the namespace until they exit).</summary>
    public static void Remove(string name) => IpRoute.Run("netns", "del", name);

    public static Marker? ReadMarker(string name)
    {
        var path = MarkerPath(name);
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), MarkerJsonContext.Default.Marker);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (JsonException)
        {
            // Only net-porter writes markers; one it cannot read proves nothing, so it counts as none.
            return null;
        }
    }

    public static void WriteMarker(string name, Marker marker)
    {
        var path = MarkerPath(name);
        var temp = $"{path}.tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(marker, MarkerJsonContext.Default.Marker));
        File.Move(temp, path, overwrite: true);
    }

    public static void DeleteMarker(string name) => File.Delete(MarkerPath(name));

    private static string MarkerPath(string name) => Path.Combine(StateDirectory, name);
}

/// <summary>
/// What net-porter knows of /run/netns/NAME: the namespace's inode (0 while `up` is making it: a crash between
/// `ip netns add` and the marker's update then still finds it its own) and whether it was adopted.
/// </summary>
public sealed record Marker(
    [property: JsonPropertyName("inode")] ulong Inode,
    [property: JsonPropertyName("adopted")] bool Adopted);

[JsonSerializable(typeof(Marker))]
internal sealed partial class MarkerJsonContext : JsonSerializerContext;
