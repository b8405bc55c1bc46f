using Porter.Server.Json;
namespace Porter.Server.Cni.Config;

/// <summary>
/// The identifier rules of the CNI spec. Every string that ends up in a CNI environment variable,
/// a file name or a plugin path is checked here first.
/// </summary>
public static class CniNames
{
    /// <summary>The longest network (and so resource) name accepted: it becomes part of file names and lock keys.</summary>
    public const int MaxNetworkNameLength = 100;

    /// <summary>Container ids and network names: ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$.</summary>
    public static bool IsValidIdentifier(string value)
    {
        if (value.Length == 0 || !char.IsAsciiLetterOrDigit(value[0]))
        {
            return false;
        }
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && c != '.' && c != '-')
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Null when valid, otherwise why not.</summary>
    public static string? ValidateNetworkName(string name, int maxLength)
    {
        if (name.Length == 0)
        {
            return "the name is empty";
        }
        if (name.Length > maxLength)
        {
            return $"the name is {name.Length} characters long; at most {maxLength} are allowed";
        }
        return IsValidIdentifier(name)
            ? null
            : $"{Quote(name)} is not a valid name: use letters, digits, '_', '.' and '-', starting with a letter or digit";
    }

    /// <summary>Null when valid, otherwise why not (CNI's and the kernel's interface name rules).</summary>
    public static string? ValidateInterfaceName(string name)
    {
        if (name.Length == 0)
        {
            return "the interface name is empty";
        }
        if (System.Text.Encoding.UTF8.GetByteCount(name) > 15)
        {
            return $"interface name {Quote(name)} is longer than 15 bytes";
        }
        if (name is "." or "..")
        {
            return $"interface name {Quote(name)} is not allowed";
        }
        foreach (var c in name)
        {
            if (c is '/' or ':' || char.IsWhiteSpace(c) || char.IsControl(c) || c > '~')
            {
                return $"interface name {Quote(name)} contains a character that is not allowed ('/', ':', whitespace, control or non-ASCII)";
            }
        }
        return null;
    }

    /// <summary>A plugin type is a file name inside the plugin directory, never a path.</summary>
    public static bool IsValidPluginType(string type) => IsValidIdentifier(type) && type is not ("." or "..");

    public static string Quote(string s) => Json.JsonSource.Quote(s);
}
