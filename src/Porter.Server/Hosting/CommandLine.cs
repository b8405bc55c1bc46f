namespace Porter.Server.Hosting;

/// <summary>net-porter-server's arguments.</summary>
public sealed record CommandLine(string ConfigPath, bool CheckOnly, bool ShowVersion, bool ShowHelp)
{
    public const string Usage = """
        Usage: net-porter-server [--config PATH] [--check]

        Runs the net-porter daemon in the foreground (as root).

          --config PATH   configuration file (default: /etc/net-porter/config.json)
          --check         validate the configuration and the CNI networks, print a summary, and exit
          --version       print the version and exit
          --help          print this help and exit

        Signals: SIGHUP reloads config.json and the CNI directory; SIGTERM stops.
        """;

    public static CommandLine Parse(string[] args)
    {
        var config = Configuration.ConfigLoader.DefaultConfigPath;
        bool check = false, version = false, help = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--config" or "-c":
                    if (i + 1 >= args.Length)
                    {
                        throw new ArgumentException($"{args[i]} needs a path");
                    }
                    config = args[++i];
                    break;
                case var a when a.StartsWith("--config=", StringComparison.Ordinal):
                    config = a["--config=".Length..];
                    break;
                case "--check":
                    check = true;
                    break;
                case "--version":
                    version = true;
                    break;
                case "--help" or "-h":
                    help = true;
                    break;
                default:
                    throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }
        return new CommandLine(config, check, version, help);
    }
}
