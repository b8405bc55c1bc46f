using System.CommandLine;
using Porter.Plugin.Cli;
using Porter.Plugin.Netns;

namespace Porter.Plugin.Commands;

/// <summary>"netns up NAME" and "netns down NAME": named namespaces for systemd services (net-porter-netns@.service).</summary>
public static class NetnsCommand
{
    public static Command Build()
    {
        var command = new Command("netns", "Named network namespaces under /run/netns for services (root; see net-porter-netns@.service).");
        command.Subcommands.Add(Up());
        command.Subcommands.Add(Down());
        return command;
    }

    private static Argument<string> Name() => new("NAME") { Description = "the namespace's name: /run/netns/NAME" };

    private static Command Up()
    {
        var name = Name();
        var file = new Option<string>("--file", "-f")
        {
            Description = $"what to attach (default {NetnsFile.Directory}/NAME.json)",
            HelpName = "PATH",
        };
        var socket = CliOptions.Socket();
        var up = new Command("up", "Make /run/netns/NAME (or use the one made before), attach what the file lists, write /etc/netns/NAME/resolv.conf.")
        {
            name, file, socket,
        };
        up.SetGuardedAction((parse, cancellationToken) => NetnsUp.RunAsync(parse.GetRequiredValue(name), parse.GetValue(file), parse.GetValue(socket),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken));
        return up;
    }

    private static Command Down()
    {
        var name = Name();
        var socket = CliOptions.Socket();
        var down = new Command("down", "Detach everything attached under NAME and remove /run/netns/NAME if net-porter made it.")
        {
            name, socket,
        };
        down.SetGuardedAction((parse, cancellationToken) => NetnsDown.RunAsync(parse.GetRequiredValue(name), parse.GetValue(socket),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken));
        return down;
    }
}
