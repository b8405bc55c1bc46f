using Porter.Plugin.Cli;
using Porter.Plugin.Netns;

namespace Porter.Plugin.Commands;

/// <summary>"netns up NAME" and "netns down NAME": named namespaces for systemd services (net-porter-netns@.service).</summary>
public static class NetnsCommand
{
    private static readonly (string, string)[] Name = [("NAME", "the namespace's name: /run/netns/NAME")];

    public static CliCommand Up() => new("netns up",
        "Make /run/netns/NAME (or use the one made before), attach what the file lists, write /etc/netns/NAME/resolv.conf (root).",
        [new("--file", $"what to attach (default {NetnsFile.Directory}/NAME.json)", "PATH", Alias: "-f"), CliOptions.Socket],
        (args, stdout, stderr, cancellationToken) => NetnsUp.RunAsync(args.Positional[0], args.Get("--file"), args.Get("--socket"), stdout, stderr, cancellationToken))
    {
        Arguments = Name,
    };

    public static CliCommand Down() => new("netns down",
        "Detach everything attached under NAME and remove /run/netns/NAME if net-porter made it (root).",
        [CliOptions.Socket],
        (args, stdout, stderr, cancellationToken) => NetnsDown.RunAsync(args.Positional[0], args.Get("--socket"), stdout, stderr, cancellationToken))
    {
        Arguments = Name,
    };
}
