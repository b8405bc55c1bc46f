using Porter.Server.Configuration;
using Porter.Server.Hosting;
using Porter.Server.Identity;
using Porter.Server.Json;
using Porter.Server.Rpc;

// net-porter is Linux-only: namespaces, SO_PEERCRED, nsfs.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Porter.Server;

public static class Program
{
    private const int ExitUsage = 2;
    private const int ExitConfig = 78; // EX_CONFIG: systemd shows it as "CONFIG"

    public static async Task<int> Main(string[] args)
    {
        CommandLine cli;
        try
        {
            cli = CommandLine.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"net-porter-server: {e.Message}\n\n{CommandLine.Usage}");
            return ExitUsage;
        }
        if (cli.ShowHelp)
        {
            Console.WriteLine(CommandLine.Usage);
            return 0;
        }
        if (cli.ShowVersion)
        {
            Console.WriteLine($"net-porter-server {PorterService.ServerVersion}");
            return 0;
        }

        var users = new UserDatabase();
        ServerSnapshot snapshot;
        IReadOnlyList<string> warnings;
        try
        {
            (snapshot, warnings) = ServerSnapshot.Load(cli.ConfigPath, users);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"net-porter-server: {e.Message}");
            return ExitConfig;
        }
        if (cli.CheckOnly)
        {
            return await ConfigCheck.RunAsync(snapshot, warnings, Console.Out);
        }
        if (!Environment.IsPrivilegedProcess)
        {
            await Console.Error.WriteLineAsync("net-porter-server: must run as root (it creates network interfaces and opens other processes' namespaces)");
            return ExitUsage;
        }
        try
        {
            return await ServerHost.RunAsync(cli, snapshot, warnings, users);
        }
        catch (StartupException e)
        {
            await Console.Error.WriteLineAsync($"net-porter-server: {e.Message}");
            return 1;
        }
    }
}
