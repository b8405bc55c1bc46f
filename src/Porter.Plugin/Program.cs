using Grpc.Core;
using Porter.Plugin;
using Porter.Plugin.Commands;
using Porter.Plugin.Netavark;
using Porter.Protocol;

// The netavark plugin contract: argv[0] is the verb, JSON on stdin, exactly one JSON document on stdout,
// errors as {"error": "..."} with a non-zero exit, and diagnostics on stderr only.
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
        _ => throw new PluginException($"unknown command '{verb}' (expected info, create, setup <netns> or teardown <netns>)"),
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

int Fail(string message)
{
    PluginOutput.WriteJson(stdout, PluginOutput.Error(message));
    return 1;
}
