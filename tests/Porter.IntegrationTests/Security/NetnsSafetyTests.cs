using Porter.IntegrationTests.Infrastructure;
using Porter.Testbed;
using Xunit;

namespace Porter.IntegrationTests.Security;

/// <summary>
/// The server opens only network namespaces the caller owns, resolved as the caller sees the path.
/// (The full catalogue of abuse cases belongs to the security issue; these are the foundation's guarantees.)
/// </summary>
[Collection(LanWorldCollection.Name)]
public sealed class NetnsSafetyTests(LanWorld world)
{
    private string Setup(RootlessCaller caller, string netnsPath) =>
        Observe.Error(caller.Plugin("setup", netnsPath, NetavarkJson.Exec(world.Network(LanWorld.MacvlanHostLocal), NetavarkJson.NewContainerId(), "probe")));

    [Fact]
    public void The_host_namespace_through_proc_is_refused()
    {
        using var caller = world.Caller(world.Alice);
        var linksBefore = world.Lan.InHost("ip", "-o", "link").Stdout;

        var error = Setup(caller, "/proc/1/ns/net");

        Assert.StartsWith("INVALID_ARGUMENT: netns path /proc/1/ns/net", error);
        Assert.Equal(linksBefore, world.Lan.InHost("ip", "-o", "link").Stdout);
    }

    [Fact]
    public void A_network_namespace_owned_by_someone_else_is_refused()
    {
        // The scratch host namespace is bind-mounted where the caller can see it, but root owns it.
        using var caller = world.Caller(world.Alice);
        var linksBefore = world.Lan.InHost("ip", "-o", "link").Stdout;
        var recordsBefore = world.CachedAttachments();

        var error = Setup(caller, world.HostNetnsBind);

        Assert.Equal($"PERMISSION_DENIED: netns {world.HostNetnsBind} is not yours: its user namespace belongs to uid 0, you are uid {world.Alice.Uid}", error);
        Assert.Equal(linksBefore, world.Lan.InHost("ip", "-o", "link").Stdout);
        Assert.Equal(recordsBefore, world.CachedAttachments());
    }

    [Fact]
    public void Files_directories_and_missing_paths_are_refused_by_kind()
    {
        using var caller = world.Caller(world.Alice);
        Assert.Equal(0, caller.Run($"echo x > {caller.WorkDir}/plain && mkdir -p {caller.WorkDir}/dir && mkfifo {caller.WorkDir}/fifo").ExitCode);

        Assert.Equal($"INVALID_ARGUMENT: netns path {caller.WorkDir}/plain is a regular file, not a network namespace", Setup(caller, $"{caller.WorkDir}/plain"));
        Assert.Equal($"INVALID_ARGUMENT: netns path {caller.WorkDir}/dir is a directory, not a network namespace", Setup(caller, $"{caller.WorkDir}/dir"));
        // A FIFO would block an ordinary open; it must be refused without ever being opened for reading.
        Assert.Equal($"INVALID_ARGUMENT: netns path {caller.WorkDir}/fifo is a FIFO, not a network namespace", Setup(caller, $"{caller.WorkDir}/fifo"));
        Assert.Equal($"NOT_FOUND: netns path {caller.WorkDir}/missing does not exist", Setup(caller, $"{caller.WorkDir}/missing"));
    }

    [Fact]
    public void Another_kind_of_namespace_is_refused()
    {
        using var caller = world.Caller(world.Alice);
        var path = $"{caller.WorkDir}/utsns";
        var made = caller.Run($"touch {path} && unshare --uts={path} true");
        Assert.True(made.ExitCode == 0, made.ToString());

        Assert.Equal($"INVALID_ARGUMENT: netns path {path} is a uts namespace, not a network namespace", Setup(caller, path));
    }
}
