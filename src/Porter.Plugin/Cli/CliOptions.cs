using Porter.Plugin.Connection;

namespace Porter.Plugin.Cli;

/// <summary>Options several commands share, and what they mean.</summary>
public static class CliOptions
{
    public static readonly CliOption Socket = new("--socket",
        $"the server's socket (default: the first that exists of $XDG_RUNTIME_DIR/{SocketLocator.SocketName}, /run/user/UID/{SocketLocator.SocketName}, {SocketLocator.MainSocket})",
        "PATH");

    public static CliOption Json(string what) => new("--json", $"print {what} as JSON");

    public static readonly CliOption Resource = new("--resource", "the server resource (a CNI network in its configuration)", "NAME", Alias: "-r", Required: true);

    public static CliOption Pid(string verb) => new("--pid", $"{verb} the network namespace of this process", "PID");

    public static CliOption Netns(string verb) => new("--netns", $"{verb} the network namespace bind-mounted at this path (e.g. /run/netns/NAME)", "PATH");

    public static readonly CliOption InterfaceName = new("--ifname", "the interface's name inside the namespace", "NAME", Default: "eth0");

    /// <summary>Exactly one of --pid and --netns.</summary>
    public static string? OneTarget(ParsedArgs args) => (args.Has("--pid"), args.Has("--netns")) switch
    {
        (true, true) => "give --pid or --netns, not both",
        (false, false) => "give the target: --pid PID or --netns PATH",
        _ => null,
    };

    /// <summary>The socket as --socket names it, else found as for netavark's calls.</summary>
    public static string LocateSocket(string? socket) => SocketLocator.Locate(socket, howToName: "--socket PATH");

    /// <summary>A namespace path as the caller means it: relative to their working directory.</summary>
    public static string AbsolutePath(string path) => Path.IsPathRooted(path) ? path : Path.GetFullPath(path);
}
