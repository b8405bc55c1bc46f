using System.CommandLine;
using Porter.Plugin.Connection;

namespace Porter.Plugin.Cli;

/// <summary>Options several verbs share, made anew for each command (an option belongs to one command).</summary>
public static class CliOptions
{
    public static Option<string> Socket() => new("--socket")
    {
        Description = $"the server's socket (default: the first that exists of $XDG_RUNTIME_DIR/{SocketLocator.SocketName}, /run/user/UID/{SocketLocator.SocketName}, {SocketLocator.MainSocket})",
        HelpName = "PATH",
    };

    public static Option<bool> Json(string what) => new("--json") { Description = $"print {what} as JSON" };

    public static Option<string> Resource() => new("--resource", "-r")
    {
        Description = "the server resource (a CNI network in its configuration)",
        Required = true,
        HelpName = "NAME",
    };

    public static Option<int> Pid(string verb) => new("--pid")
    {
        Description = $"{verb} the network namespace of this process",
        HelpName = "PID",
    };

    public static Option<string> Netns(string verb) => new("--netns")
    {
        Description = $"{verb} the network namespace bind-mounted at this path (e.g. /run/netns/NAME)",
        HelpName = "PATH",
    };

    public static Option<string> InterfaceName() => new("--ifname")
    {
        Description = "the interface's name inside the namespace",
        DefaultValueFactory = _ => "eth0",
        HelpName = "NAME",
    };

    /// <summary>Exactly one of --pid and --netns, checked by the parser (so --help shows both, and a mistake says which).</summary>
    public static void RequireOneTarget(Command command, Option<int> pid, Option<string> netns) =>
        command.Validators.Add(result =>
        {
            var hasPid = result.GetResult(pid) is not null;
            var hasNetns = result.GetResult(netns) is not null;
            if (hasPid == hasNetns)
            {
                result.AddError(hasPid ? "give --pid or --netns, not both" : "give the target: --pid PID or --netns PATH");
            }
        });

    /// <summary>The socket as --socket names it, else found as for netavark's calls.</summary>
    public static string SocketPath(ParseResult parse, Option<string> socket) => LocateSocket(parse.GetValue(socket));

    public static string LocateSocket(string? socket) => SocketLocator.Locate(socket, howToName: "--socket PATH");

    /// <summary>A namespace path as the caller means it: relative to their working directory.</summary>
    public static string AbsolutePath(string path) => Path.IsPathRooted(path) ? path : Path.GetFullPath(path);
}
