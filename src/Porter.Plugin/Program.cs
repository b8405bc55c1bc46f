using Grpc.Core;
using Porter.Plugin;
using Porter.Plugin.Cli;
using Porter.Plugin.Commands;
using Porter.Plugin.Netavark;
using Porter.Protocol;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// The netavark plugin contract: argv[0] is the verb, JSON on stdin, exactly one JSON document on stdout,
// errors as {"error": "..."} with a non-zero exit, and diagnostics on stderr only. The command-line verbs (attach,
// detach, netns, status) go to their own parser; the netavark verbs never touch it.
ClientTimings.Start();
if (args.Length > 0 && CommandLineApp.Handles(args[0]))
{
    return await CommandLineApp.RunAsync(args, Console.Out, Console.Error);
}
var stdout = Console.OpenStandardOutput();
var context = new PluginContext(args, Console.OpenStandardInput(), stdout, Console.Error);
try
{
    var verb = args.Length == 0 ? "info" : args[0];
    return verb switch
    {
        "info" => InfoCommand.Run(context),
        "create" => await CreateCommand.RunAsync(context),
        "setup" => await SetupCommand.RunAsync(context),
        "teardown" => await TeardownCommand.RunAsync(context),
        _ => throw new PluginException($"unknown command '{verb}' (expected info, create, setup <netns> or teardown <netns>; or attach, detach, netns, status: see net-porter --help)"),
    };
}
catch (PluginException e)
{
    return Fail(e.Message);
}
catch (RpcException e)
{
    return Fail(e.Describe());
}
catch (Exception e)
{
    Console.Error.WriteLine($"net-porter: {e}");
    return Fail($"internal error: {e.Message}");
}
finally
{
    if (ClientTimings.Summary() is { } timings)
    {
        Console.Error.WriteLine(timings);
    }
}

int Fail(string message)
{
    PluginOutput.WriteJson(stdout, PluginOutput.Error(message));
    return 1;
}
