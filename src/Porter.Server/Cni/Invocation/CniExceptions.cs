namespace Porter.Server.Cni.Invocation;

/// <summary>Something went wrong running a CNI plugin; the message is meant for the user and names the plugin.</summary>
public class CniException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A plugin exited non-zero. Carries the plugin's own error object (CNI spec "Error").</summary>
public sealed class CniPluginException : CniException
{
    public CniPluginException(string pluginType, string command, uint code, string msg, string? details, string stderr)
        : base(Format(pluginType, command, msg, details))
    {
        PluginType = pluginType;
        Command = command;
        Code = code;
        Msg = msg;
        Details = details;
        Stderr = stderr;
    }

    public string PluginType { get; }
    public string Command { get; }
    /// <summary>CNI error code: 1 version, 2 field, 3 container, 4 env, 5 I/O, 6 decode, 7 config, 11 try later, 100+ plugin-specific.</summary>
    public uint Code { get; }
    public string Msg { get; }
    public string? Details { get; }
    public string Stderr { get; }

    private static string Format(string type, string command, string msg, string? details) =>
        string.IsNullOrEmpty(details)
            ? $"CNI plugin '{type}' failed ({command}): {msg}"
            : $"CNI plugin '{type}' failed ({command}): {msg}: {details}";
}

/// <summary>A plugin ran longer than allowed and was killed.</summary>
public sealed class CniTimeoutException(string pluginType, string command, TimeSpan timeout)
    : CniException($"CNI plugin '{pluginType}' did not finish {command} within {timeout.TotalSeconds:0.#} s and was stopped");
